package networks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// fixedRoot is the root key of the known-answer tests: bytes 0x00 to 0x1f.
func fixedRoot() []byte {
	root := make([]byte, rootKeyLength)
	for i := range root {
		root[i] = byte(i)
	}
	return root
}

// newFixedSandbox returns a sandbox with the fixed root key and one active
// account per network under a known reference.
func newFixedSandbox(t testing.TB, reference string) *Sandbox {
	t.Helper()
	state := newMemState()
	state.root = fixedRoot()
	for n, sch := range schemes {
		acct := Account{Network: n, Reference: reference, Status: StatusActive,
			TokenBIN: sch.tokenBINs[0], Generation: 1}
		if err := state.CreateAccount(context.Background(), acct); err != nil {
			t.Fatal(err)
		}
	}
	return NewSandbox(state, nil)
}

// spelledOut computes a cryptogram the long way, from the layout in doc.go,
// as a check on the package's own code.
func spelledOut(root []byte, network Network, format byte, reference string, atc uint32) string {
	field := func(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }

	keyMAC := hmac.New(sha256.New, root)
	keyMAC.Write([]byte("atlas-sandbox/v1/token-key"))
	keyMAC.Write(field([]byte(network)))
	keyMAC.Write(field([]byte(reference)))
	key := keyMAC.Sum(nil)

	counter := []byte{byte(atc >> 24), byte(atc >> 16), byte(atc >> 8), byte(atc)}
	valueMAC := hmac.New(sha256.New, key)
	valueMAC.Write([]byte("atlas-sandbox/v1/cryptogram"))
	valueMAC.Write(field([]byte{format}))
	valueMAC.Write(field([]byte(reference)))
	valueMAC.Write(field(counter))

	raw := append([]byte{format}, counter...)
	raw = append(raw, valueMAC.Sum(nil)[:15]...)
	return base64.StdEncoding.EncodeToString(raw)
}

func TestCryptogramKnownAnswers(t *testing.T) {
	const reference = "ref-known-answer"
	tests := []struct {
		network Network
		typ     string
		eci     string
		format  byte
		golden  string // ATC 1 under fixedRoot
	}{
		{Visa, "TAVV", "07", 0x01, "AQAAAAGYmGYBAbMIiP382mtSgtg="},
		{Mastercard, "UCAF", "06", 0x00, "AAAAAAErTPDaSY94UnWuMPmQi4Q="},
		{Amex, "TOKEN_DATA_BLOCK_A", "05", 0x02, "AgAAAAGoqf+TT0L2M8Cb+Szq4Bs="},
	}
	sb := newFixedSandbox(t, reference)
	for _, tt := range tests {
		t.Run(string(tt.network), func(t *testing.T) {
			p := provider(t, sb, tt.network)
			for atc := uint32(1); atc <= 3; atc++ {
				c, err := p.Cryptogram(context.Background(), reference)
				if err != nil {
					t.Fatal(err)
				}
				value := c.Value.Reveal()
				if c.Type != tt.typ || c.ECI != tt.eci || c.ATC != atc {
					t.Fatalf("got type %q ECI %q ATC %d, want %q %q %d",
						c.Type, c.ECI, c.ATC, tt.typ, tt.eci, atc)
				}
				raw, err := base64.StdEncoding.Strict().DecodeString(value)
				if len(value) != 28 || err != nil || len(raw) != 20 || raw[0] != tt.format {
					t.Fatalf("value of %d characters, %d bytes, %v", len(value), len(raw), err)
				}
				if want := spelledOut(fixedRoot(), tt.network, tt.format, reference, atc); value != want {
					t.Fatalf("ATC %d: got %s, want %s", atc, value, want)
				}
				if atc == 1 && value != tt.golden {
					t.Fatalf("ATC 1: got %s, want golden %s", value, tt.golden)
				}
			}
		})
	}
}

// Mastercard DSRP values must start with A to P to be taken as DSRP.
func TestMastercardCryptogramLeadCharacter(t *testing.T) {
	sb, _ := newTestSandbox(t)
	p, tok := provision(t, sb, "2223003122003222")
	for i := 0; i < 20; i++ {
		c, err := p.Cryptogram(context.Background(), tok.Reference)
		if err != nil {
			t.Fatal(err)
		}
		if first := c.Value.Reveal()[0]; first < 'A' || first > 'P' {
			t.Fatalf("Mastercard cryptogram starts with %q", first)
		}
	}
}

func TestVerifyRoundTrip(t *testing.T) {
	sb, _ := newTestSandbox(t)
	for _, pan := range []string{"4242424242424242", "5555555555554444", "378282246310005"} {
		p, tok := provision(t, sb, pan)
		var issued []Cryptogram
		for i := 0; i < 5; i++ {
			c, err := p.Cryptogram(context.Background(), tok.Reference)
			if err != nil {
				t.Fatal(err)
			}
			issued = append(issued, c)
		}
		seen := map[string]bool{}
		for i, c := range issued {
			if c.ATC != uint32(i+1) || seen[c.Value.Reveal()] {
				t.Fatalf("%s: cryptogram %d has ATC %d or repeats", p.Network(), i, c.ATC)
			}
			seen[c.Value.Reveal()] = true
			// Verifying an older value after newer ones still gives its ATC.
			atc, err := p.Verify(context.Background(), tok.Reference, c.Value.Reveal())
			if err != nil || atc != c.ATC {
				t.Fatalf("%s: Verify = %d, %v; want %d", p.Network(), atc, err, c.ATC)
			}
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	ctx := context.Background()
	sb, _ := newTestSandbox(t)
	p, tok := provision(t, sb, "4242424242424242")
	_, other := provision(t, sb, "4111111111111111")
	c, err := p.Cryptogram(ctx, tok.Reference)
	if err != nil {
		t.Fatal(err)
	}
	good := c.Value.Reveal()
	raw, _ := base64.StdEncoding.DecodeString(good)
	root, _ := sb.rootKey(ctx)

	// Every single-bit change anywhere in the 20 bytes is caught.
	var tampered []string
	for i := range raw {
		for bit := 0; bit < 8; bit++ {
			b := append([]byte(nil), raw...)
			b[i] ^= 1 << bit
			tampered = append(tampered, base64.StdEncoding.EncodeToString(b))
		}
	}
	// A correctly computed value for an ATC the network has not issued yet.
	future := newCryptogram(root, schemes[Visa], tok.Reference, 2).Value.Reveal()
	// A correctly computed value for ATC 0, which is never issued.
	zero := newCryptogram(root, schemes[Visa], tok.Reference, 0).Value.Reveal()
	// The same token's value under Mastercard's format byte.
	mastercardShaped := newCryptogram(root, schemes[Mastercard], tok.Reference, 1).Value.Reveal()

	cases := map[string]string{
		"empty":             "",
		"27 characters":     good[:27],
		"29 characters":     good + "A",
		"hex form":          hex.EncodeToString(raw),
		"URL alphabet":      "_-" + good[2:],
		"no padding":        good[:27] + "A",
		"leading space":     " " + good[1:],
		"future ATC":        future,
		"zero ATC":          zero,
		"other network":     mastercardShaped,
		"not base64 at all": "this is not a cryptogram!!!",
	}
	for i, v := range tampered {
		cases["bit flip "+string(rune('A'+i/8))+string(rune('0'+i%8))] = v
	}
	for name, value := range cases {
		_, err := p.Verify(ctx, tok.Reference, value)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		wantFault(t, err, fault.ErrRefused, CodeInvalidCryptogram)
		wantNoSecret(t, err.Error(), good, value)
	}

	// A genuine value of one token does not verify for another.
	_, err = p.Verify(ctx, other.Reference, good)
	wantFault(t, err, fault.ErrRefused, CodeInvalidCryptogram)
	// The genuine value still verifies after all that.
	if atc, err := p.Verify(ctx, tok.Reference, good); err != nil || atc != 1 {
		t.Fatalf("genuine value: %d, %v", atc, err)
	}
}

// BenchmarkCryptogram measures a whole Cryptogram call against the in-memory
// State: the ATC increment, the key derivation and the MAC.
func BenchmarkCryptogram(b *testing.B) {
	sb, _ := newTestSandbox(b)
	p, tok := provision(b, sb, "4242424242424242")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Cryptogram(ctx, tok.Reference); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures Verify against the in-memory State.
func BenchmarkVerify(b *testing.B) {
	sb, _ := newTestSandbox(b)
	p, tok := provision(b, sb, "5555555555554444")
	ctx := context.Background()
	c, err := p.Cryptogram(ctx, tok.Reference)
	if err != nil {
		b.Fatal(err)
	}
	value := c.Value.Reveal()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Verify(ctx, tok.Reference, value); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzVerify feeds Verify arbitrary values: it must never panic, accept only
// the genuine value, and answer everything else with one fixed error.
func FuzzVerify(f *testing.F) {
	sb, _ := newTestSandbox(f)
	p, tok := provision(f, sb, "5555555555554444")
	c, err := p.Cryptogram(context.Background(), tok.Reference)
	if err != nil {
		f.Fatal(err)
	}
	good := c.Value.Reveal()
	f.Add(good)
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add(good[:27] + "B")
	f.Fuzz(func(t *testing.T, value string) {
		atc, err := p.Verify(context.Background(), tok.Reference, value)
		if value == good {
			if err != nil || atc != 1 {
				t.Fatalf("genuine value: %d, %v", atc, err)
			}
			return
		}
		wantFault(t, err, fault.ErrRefused, CodeInvalidCryptogram)
		// The text is fixed, so it can hold nothing of the value.
		if err.Error() != errInvalidCryptogram().Error() {
			t.Fatalf("error text %q", err)
		}
	})
}
