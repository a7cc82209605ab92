package networks

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/card"
	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/secret"
)

var testNow = time.Date(2026, time.March, 15, 12, 0, 0, 0, time.UTC)

func newTestSandbox(t testing.TB) (*Sandbox, *memState) {
	t.Helper()
	state := newMemState()
	return NewSandbox(state, func() time.Time { return testNow }), state
}

func provider(t testing.TB, sb *Sandbox, n Network) Provider {
	t.Helper()
	p, err := sb.Provider(n)
	if err != nil {
		t.Fatalf("Provider(%q): %v", n, err)
	}
	return p
}

func provisionReq(pan string) ProvisionRequest {
	return ProvisionRequest{
		MerchantID:     "merch_test",
		CardPAN:        secret.NewPAN(pan),
		CardExpMonth:   12,
		CardExpYear:    2030,
		CardholderName: "Jane Doe",
	}
}

func provision(t testing.TB, sb *Sandbox, pan string) (Provider, Token) {
	t.Helper()
	n, err := ForBrand(card.BrandOf(pan))
	if err != nil {
		t.Fatalf("ForBrand: %v", err)
	}
	p := provider(t, sb, n)
	tok, err := p.Provision(context.Background(), provisionReq(pan))
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	return p, tok
}

// wantFault fails unless err is a *fault.Error of the given kind and code.
func wantFault(t *testing.T, err error, kind error, code string) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v, want a *fault.Error %q", err, code)
	}
	if !errors.Is(err, kind) || fe.Code != code {
		t.Fatalf("got %v (code %q), want kind %v code %q", err, fe.Code, kind, code)
	}
}

// wantNoSecret fails if text holds any of the secrets.
func wantNoSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Fatalf("text %q holds a secret", text)
		}
	}
}

func TestForBrand(t *testing.T) {
	tests := []struct {
		brand card.Brand
		want  Network
	}{
		{card.Visa, Visa},
		{card.Mastercard, Mastercard},
		{card.Amex, Amex},
		{card.Discover, ""},
		{card.Unknown, ""},
		{card.Brand("jcb"), ""},
	}
	for _, tt := range tests {
		got, err := ForBrand(tt.brand)
		if tt.want == "" {
			wantFault(t, err, fault.ErrRefused, CodeNetworkNotSupported)
			var fe *fault.Error
			if errors.As(err, &fe) && fe.Param != "token_id" {
				t.Errorf("ForBrand(%q) param %q, want token_id", tt.brand, fe.Param)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ForBrand(%q) = %q, %v; want %q", tt.brand, got, err, tt.want)
		}
	}
}

func TestProviderUnknownNetwork(t *testing.T) {
	sb, _ := newTestSandbox(t)
	for _, n := range []Network{"discover", "", "VISA"} {
		p, err := sb.Provider(n)
		if p != nil {
			t.Errorf("Provider(%q) returned a provider", n)
		}
		wantFault(t, err, fault.ErrRefused, CodeNetworkNotSupported)
	}
	for n := range schemes {
		if got := provider(t, sb, n).Network(); got != n {
			t.Errorf("Provider(%q).Network() = %q", n, got)
		}
	}
}

func TestTestCardsAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range TestCards {
		if !card.Luhn(tc.Number) || card.BrandOf(tc.Number) != tc.Brand ||
			!card.ValidLength(tc.Brand, len(tc.Number)) {
			t.Errorf("test card ending %s is not a valid %s number",
				tc.Number[len(tc.Number)-4:], tc.Brand)
		}
		if seen[tc.Number] {
			t.Errorf("test card ending %s listed twice", tc.Number[len(tc.Number)-4:])
		}
		seen[tc.Number] = true
		if tc.Description == "" {
			t.Errorf("test card ending %s has no description", tc.Number[len(tc.Number)-4:])
		}
	}
}

// Every test card behaves as the table says, and no error repeats its number.
func TestProvisionTestCards(t *testing.T) {
	sb, _ := newTestSandbox(t)
	for _, tc := range TestCards {
		t.Run(tc.Number[len(tc.Number)-4:]+"_"+string(tc.Behaviour), func(t *testing.T) {
			n, err := ForBrand(tc.Brand)
			if tc.Behaviour == BehaviourNotSupported {
				wantFault(t, err, fault.ErrRefused, CodeNetworkNotSupported)
				wantNoSecret(t, err.Error(), tc.Number)
				return
			}
			if err != nil {
				t.Fatalf("ForBrand: %v", err)
			}
			tok, err := provider(t, sb, n).Provision(context.Background(), provisionReq(tc.Number))
			switch tc.Behaviour {
			case BehaviourApprove:
				if err != nil || tok.Status != StatusActive {
					t.Fatalf("Provision: %v, status %q", err, tok.Status)
				}
			case BehaviourDecline:
				wantFault(t, err, fault.ErrRefused, CodeNetworkDeclined)
			case BehaviourRequiresAuth:
				wantFault(t, err, fault.ErrRefused, CodeRequiresAuth)
				if !strings.Contains(err.Error(), "not supported") {
					t.Fatalf("message %q does not say step-up is unsupported", err)
				}
			}
			if err != nil {
				wantNoSecret(t, err.Error(), tc.Number, tc.Number[len(tc.Number)-4:])
			}
		})
	}
}

func TestProvisionRefusesBadCards(t *testing.T) {
	sb, _ := newTestSandbox(t)
	visa := provider(t, sb, Visa)
	tests := []struct {
		name  string
		pan   string
		month int
		year  int
		kind  error
		code  string
	}{
		{"mastercard at visa", "5555555555554444", 12, 2030, fault.ErrInvalid,
			CodeCardNetworkMismatch},
		{"bad check digit", "4242424242424241", 12, 2030, fault.ErrInvalid,
			"invalid_card_number"},
		{"bad length", "42424242424242", 12, 2030, fault.ErrInvalid,
			"invalid_card_number"},
		{"expired last month", "4242424242424242", 2, 2026, fault.ErrRefused,
			CodeCardExpired},
		{"month zero", "4242424242424242", 0, 2030, fault.ErrRefused,
			CodeCardExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := provisionReq(tt.pan)
			req.CardExpMonth, req.CardExpYear = tt.month, tt.year
			_, err := visa.Provision(context.Background(), req)
			wantFault(t, err, tt.kind, tt.code)
			wantNoSecret(t, err.Error(), tt.pan)
		})
	}
	// A card that expires this month is still good.
	req := provisionReq("4242424242424242")
	req.CardExpMonth, req.CardExpYear = 3, 2026
	if _, err := visa.Provision(context.Background(), req); err != nil {
		t.Fatalf("card expiring this month: %v", err)
	}
}

func TestProvisionedToken(t *testing.T) {
	sb, _ := newTestSandbox(t)
	cards := []string{
		"4242424242424242", "4111111111111111", "4222222222222", "4000056655665556",
		"5555555555554444", "2223003122003222", "5454545454545454",
		"378282246310005", "340000000000009",
	}
	for _, pan := range cards {
		t.Run(pan[len(pan)-4:], func(t *testing.T) {
			p, tok := provision(t, sb, pan)
			sch := schemes[p.Network()]
			tokenDigits := tok.TokenPAN.Reveal()

			if len(tokenDigits) != sch.tokenLength || !card.Luhn(tokenDigits) {
				t.Errorf("token PAN of %d digits, Luhn %v", len(tokenDigits), card.Luhn(tokenDigits))
			}
			if tok.TokenPAN.BIN() == pan[:6] || tokenDigits == pan {
				t.Errorf("token PAN shares the card's BIN")
			}
			if tok.TokenPAN.BIN() != sch.tokenBINs[0] {
				t.Errorf("token BIN %s, want %s", tok.TokenPAN.BIN(), sch.tokenBINs[0])
			}
			if card.BrandOf(tokenDigits) != sch.brand {
				t.Errorf("token PAN is of brand %q", card.BrandOf(tokenDigits))
			}
			if tok.ExpiryYear != 2029 || tok.ExpiryMonth < 1 || tok.ExpiryMonth > 12 {
				t.Errorf("token expiry %d/%d", tok.ExpiryMonth, tok.ExpiryYear)
			}
			body := strings.TrimPrefix(tok.Reference, sch.referencePrefix)
			if _, err := hex.DecodeString(body); err != nil || len(body) != 32 {
				t.Errorf("reference %q is not %q + 32 hex digits", tok.Reference, sch.referencePrefix)
			}
			if tok.Network != p.Network() || tok.Status != StatusActive ||
				tok.CardLast4 != pan[len(pan)-4:] {
				t.Errorf("token %+v", tok)
			}
			checkPAR(t, tok.PAR, sch.parPrefix, pan)

			again, err := p.Token(context.Background(), tok.Reference)
			if err != nil || again != tok {
				t.Errorf("Token(ref) = %+v, %v; want %+v", again, err, tok)
			}
		})
	}
}

func checkPAR(t *testing.T, par, prefix, pan string) {
	t.Helper()
	if len(par) != 29 || !strings.HasPrefix(par, prefix) {
		t.Errorf("PAR %q: want 29 characters starting %s", par, prefix)
	}
	for _, r := range par {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			t.Errorf("PAR %q holds %q", par, r)
		}
	}
	wantNoSecret(t, par, pan)
}

// The token expiry depends on when and where the token was made, not on the
// card's expiry.
func TestTokenExpiryIndependentOfCard(t *testing.T) {
	sb, _ := newTestSandbox(t)
	p := provider(t, sb, Visa)
	months := map[int]bool{}
	for _, cardYear := range []int{2026, 2027, 2035} {
		for i := 0; i < 8; i++ {
			req := provisionReq("4242424242424242")
			req.CardExpMonth, req.CardExpYear = 12, cardYear
			tok, err := p.Provision(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if tok.ExpiryYear != testNow.Year()+3 {
				t.Fatalf("token expiry year %d for card year %d", tok.ExpiryYear, cardYear)
			}
			months[tok.ExpiryMonth] = true
		}
	}
	if len(months) < 3 {
		t.Fatalf("24 tokens used only expiry months %v", months)
	}
}

func TestTokenBINAvoidsCardBIN(t *testing.T) {
	sb, _ := newTestSandbox(t)
	for n, sch := range schemes {
		partial := sch.tokenBINs[0] + strings.Repeat("0", sch.tokenLength-7)
		pan := partial + string(card.LuhnCheckDigit(partial))
		p, tok := provision(t, sb, pan)
		if p.Network() != n {
			t.Fatalf("card routed to %q, want %q", p.Network(), n)
		}
		if tok.TokenPAN.BIN() != sch.tokenBINs[1] || !card.Luhn(tok.TokenPAN.Reveal()) {
			t.Errorf("%s: card BIN %s gave token BIN %s", n, pan[:6], tok.TokenPAN.BIN())
		}
	}
}

func TestPAR(t *testing.T) {
	sb, _ := newTestSandbox(t)
	p := provider(t, sb, Visa)
	first, err := p.Provision(context.Background(), provisionReq("4242424242424242"))
	if err != nil {
		t.Fatal(err)
	}
	req := provisionReq("4242424242424242")
	req.MerchantID = "merch_other"
	second, err := p.Provision(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if first.PAR != second.PAR {
		t.Errorf("two tokens of one card have PARs %q and %q", first.PAR, second.PAR)
	}
	if first.Reference == second.Reference || first.TokenPAN.Reveal() == second.TokenPAN.Reveal() {
		t.Errorf("two tokens of one card share a reference or a token PAN")
	}

	other, err := p.Provision(context.Background(), provisionReq("4111111111111111"))
	if err != nil {
		t.Fatal(err)
	}
	if other.PAR == first.PAR {
		t.Errorf("two cards share the PAR %q", first.PAR)
	}

	// A second sandbox with another root key gives another PAR.
	sb2, _ := newTestSandbox(t)
	_, tok2 := provision(t, sb2, "4242424242424242")
	if tok2.PAR == first.PAR {
		t.Errorf("the PAR does not depend on the root key")
	}
}

// Nothing the State holds contains a card PAN or a token PAN.
func TestStateHoldsNoPAN(t *testing.T) {
	sb, state := newTestSandbox(t)
	var secrets []string
	for _, pan := range []string{"4242424242424242", "5555555555554444", "378282246310005"} {
		_, tok := provision(t, sb, pan)
		secrets = append(secrets, pan, tok.TokenPAN.Reveal())
	}
	accounts := state.snapshot()
	if len(accounts) != 3 {
		t.Fatalf("state holds %d accounts, want 3", len(accounts))
	}
	for _, a := range accounts {
		wantNoSecret(t, fmt.Sprintf("%#v", a), secrets...)
	}
}

func TestRootKeyReadOnce(t *testing.T) {
	sb, state := newTestSandbox(t)
	p, tok := provision(t, sb, "4242424242424242")
	for i := 0; i < 5; i++ {
		if _, err := p.Cryptogram(context.Background(), tok.Reference); err != nil {
			t.Fatal(err)
		}
	}
	// 1 RootKey + 1 CreateAccount + 5 NextATC.
	if state.calls != 7 {
		t.Fatalf("%d State calls, want 7", state.calls)
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	sb, _ := newTestSandbox(t)
	p, tok := provision(t, sb, "5555555555554444")
	ref := tok.Reference

	c1, err := p.Cryptogram(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Suspend(ctx, ref); err != nil {
		t.Fatalf("Suspend: %v", err)
	}
	if err := p.Suspend(ctx, ref); err != nil {
		t.Fatalf("Suspend again: %v", err)
	}
	_, err = p.Cryptogram(ctx, ref)
	wantFault(t, err, fault.ErrConflict, CodeTokenNotActive)
	_, err = p.Verify(ctx, ref, c1.Value.Reveal())
	wantFault(t, err, fault.ErrConflict, CodeTokenNotActive)
	if got, _ := p.Token(ctx, ref); got.Status != StatusSuspended {
		t.Fatalf("status %q after Suspend", got.Status)
	}

	if err := p.Resume(ctx, ref); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if err := p.Resume(ctx, ref); err != nil {
		t.Fatalf("Resume again: %v", err)
	}
	c2, err := p.Cryptogram(ctx, ref)
	if err != nil || c2.ATC != 2 {
		t.Fatalf("after Resume: ATC %d, %v", c2.ATC, err)
	}

	if err := p.Delete(ctx, ref); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := p.Delete(ctx, ref); err != nil {
		t.Fatalf("Delete again: %v", err)
	}
	_, err = p.Cryptogram(ctx, ref)
	wantFault(t, err, fault.ErrConflict, CodeTokenNotActive)
	wantFault(t, p.Resume(ctx, ref), fault.ErrConflict, CodeTokenDeleted)
	wantFault(t, p.Suspend(ctx, ref), fault.ErrConflict, CodeTokenDeleted)
	_, err = p.Cryptogram(ctx, ref)
	wantFault(t, err, fault.ErrConflict, CodeTokenNotActive)
	_, err = p.Verify(ctx, ref, c2.Value.Reveal())
	wantFault(t, err, fault.ErrConflict, CodeTokenNotActive)
	if got, _ := p.Token(ctx, ref); got.Status != StatusDeleted {
		t.Fatalf("status %q after Delete", got.Status)
	}
}

func TestUnknownReference(t *testing.T) {
	ctx := context.Background()
	sb, _ := newTestSandbox(t)
	visa, tok := provision(t, sb, "4242424242424242")
	mastercard := provider(t, sb, Mastercard)
	refs := []string{"", "nope", strings.Repeat("a", 65), "DM4MMC" + strings.Repeat("0", 32)}
	calls := []struct {
		name string
		call func(p Provider, ref string) error
	}{
		{"Token", func(p Provider, ref string) error { _, err := p.Token(ctx, ref); return err }},
		{"Cryptogram", func(p Provider, ref string) error {
			_, err := p.Cryptogram(ctx, ref)
			return err
		}},
		{"Verify", func(p Provider, ref string) error {
			_, err := p.Verify(ctx, ref, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
			return err
		}},
		{"Delete", func(p Provider, ref string) error { return p.Delete(ctx, ref) }},
		{"Suspend", func(p Provider, ref string) error { return p.Suspend(ctx, ref) }},
		{"Resume", func(p Provider, ref string) error { return p.Resume(ctx, ref) }},
	}
	for _, c := range calls {
		for _, ref := range refs {
			wantFault(t, c.call(visa, ref), fault.ErrNotFound, CodeTokenNotFound)
		}
		// A Visa reference means nothing to Mastercard.
		wantFault(t, c.call(mastercard, tok.Reference), fault.ErrNotFound, CodeTokenNotFound)
	}
}

// failingState fails every call with an infrastructure error.
type failingState struct{}

var errStoreDown = errors.New("store down")

func (failingState) RootKey(context.Context) ([]byte, error) { return nil, errStoreDown }
func (failingState) CreateAccount(context.Context, Account) error {
	return errStoreDown
}
func (failingState) Account(context.Context, Network, string) (Account, error) {
	return Account{}, errStoreDown
}
func (failingState) NextATC(context.Context, Network, string) (uint32, error) {
	return 0, errStoreDown
}
func (failingState) SetStatus(context.Context, Network, string, []Status, Status) error {
	return errStoreDown
}
func (failingState) ReplaceAccount(context.Context, Account, Account) error {
	return errStoreDown
}

func TestStateFailuresPassThrough(t *testing.T) {
	ctx := context.Background()
	p := provider(t, NewSandbox(failingState{}, nil), Visa)
	_, errProvision := p.Provision(ctx, provisionReq("4242424242424242"))
	_, errToken := p.Token(ctx, "ref")
	_, errCryptogram := p.Cryptogram(ctx, "ref")
	_, errVerify := p.Verify(ctx, "ref", "x")
	for i, err := range []error{errProvision, errToken, errCryptogram, errVerify,
		p.Delete(ctx, "ref"), p.Suspend(ctx, "ref"), p.Resume(ctx, "ref")} {
		var fe *fault.Error
		if !errors.Is(err, errStoreDown) || errors.As(err, &fe) {
			t.Errorf("call %d: got %v, want the store's error wrapped", i, err)
		}
		if err != nil {
			wantNoSecret(t, err.Error(), "4242424242424242")
		}
	}
}

// shortKeyState hands out a root key of the wrong size.
type shortKeyState struct{ failingState }

func (shortKeyState) RootKey(context.Context) ([]byte, error) { return make([]byte, 16), nil }

func TestRootKeyLengthChecked(t *testing.T) {
	p := provider(t, NewSandbox(shortKeyState{}, nil), Visa)
	if _, err := p.Provision(context.Background(), provisionReq("4242424242424242")); err == nil {
		t.Fatal("a 16-byte root key was accepted")
	}
}

func TestConcurrentCryptograms(t *testing.T) {
	sb, _ := newTestSandbox(t)
	p, tok := provision(t, sb, "378282246310005")

	const n = 50
	results := make([]Cryptogram, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = p.Cryptogram(context.Background(), tok.Reference)
		})
	}
	wg.Wait()

	atcs := map[uint32]bool{}
	values := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		atcs[results[i].ATC] = true
		values[results[i].Value.Reveal()] = true
	}
	if len(atcs) != n || len(values) != n {
		t.Fatalf("%d distinct ATCs and %d distinct values from %d calls", len(atcs), len(values), n)
	}
	for atc := uint32(1); atc <= n; atc++ {
		if !atcs[atc] {
			t.Fatalf("ATC %d missing", atc)
		}
	}
}
