package envelope_test

// These tests seal and open through the real local-kms emulator, served in
// process on 127.0.0.1 by shared/localkms, with the SDK's own KMS client.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/localkms"
)

const (
	testAlias = "alias/atlas-envelope-test"
	testPAN   = "4111111111111111"
)

var panContext = envelope.Context{Merchant: "mer_123", Record: "tok_abc", Purpose: "pan"}

// fixture is a Sealer on a fresh local-kms store with one key, reached by alias.
type fixture struct {
	sealer *envelope.Sealer
	client *kms.Client
	keyID  string
}

func newFixture(tb testing.TB) fixture {
	tb.Helper()
	srv, err := localkms.Start(tb.TempDir())
	if err != nil {
		tb.Fatalf("localkms.Start: %v", err)
	}
	tb.Cleanup(func() { srv.Close() })

	keyID, err := srv.CreateKey(context.Background(), testAlias)
	if err != nil {
		tb.Fatalf("CreateKey: %v", err)
	}
	client := srv.Client()
	return fixture{sealer: envelope.New(client, testAlias), client: client, keyID: keyID}
}

func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	fourKiB := make([]byte, 4096)
	rand.Read(fourKiB)

	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"empty", []byte{}}, // allowed: opens to an empty slice
		{"one byte", []byte{0x42}},
		{"PAN", []byte(testPAN)},
		{"4 KiB", fourKiB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := f.sealer.Seal(ctx, tt.plaintext, panContext)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			opened, err := f.sealer.Open(ctx, sealed, panContext)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(opened, tt.plaintext) {
				t.Fatalf("Open = %x, want %x", opened, tt.plaintext)
			}
		})
	}
}

func TestSealedValueHidesPlaintext(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	first, err := f.sealer.Seal(ctx, []byte(testPAN), panContext)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	second, err := f.sealer.Seal(ctx, []byte(testPAN), panContext)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}

	for _, sealed := range [][]byte{first, second} {
		if bytes.Contains(sealed, []byte(testPAN)) {
			t.Fatal("sealed value contains the PAN")
		}
		if bytes.Contains(sealed, []byte(testPAN[6:12])) {
			t.Fatal("sealed value contains the PAN's middle digits")
		}
	}
	if bytes.Equal(first, second) {
		t.Fatal("two seals of one PAN are identical; want a fresh key and nonce each time")
	}
}

func TestOpenWrongContext(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	sealed, err := f.sealer.Seal(ctx, []byte(testPAN), panContext)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}

	tests := []struct {
		name string
		ec   envelope.Context
	}{
		{"other merchant", envelope.Context{Merchant: "mer_999", Record: "tok_abc", Purpose: "pan"}},
		{"moved to other record",
			envelope.Context{Merchant: "mer_123", Record: "tok_xyz", Purpose: "pan"}},
		{"other purpose", envelope.Context{Merchant: "mer_123", Record: "tok_abc", Purpose: "expiry"}},
		{"fields swapped",
			envelope.Context{Merchant: "tok_abc", Record: "mer_123", Purpose: "pan"}},
		{"boundary shifted",
			envelope.Context{Merchant: "mer_123t", Record: "ok_abc", Purpose: "pan"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opened, err := f.sealer.Open(ctx, sealed, tt.ec)
			if !errors.Is(err, envelope.ErrOpen) {
				t.Fatalf("Open err = %v, want ErrOpen", err)
			}
			if opened != nil {
				t.Fatal("Open returned plaintext along with an error")
			}
		})
	}
}

func TestOpenTamperedByte(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	sealed, err := f.sealer.Seal(ctx, []byte(testPAN), panContext)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	keyLength := int(sealed[1])<<8 | int(sealed[2])
	keyEnd := 3 + keyLength

	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			tampered := bytes.Clone(sealed)
			tampered[i] ^= bit

			opened, err := f.sealer.Open(ctx, tampered, panContext)
			if err == nil {
				t.Fatalf("byte %d ^ %#x: Open succeeded with %q", i, bit, opened)
			}
			if bytes.Contains([]byte(err.Error()), []byte(testPAN)) {
				t.Fatalf("byte %d: error text contains the PAN", i)
			}

			// Inside the encrypted data key local-kms may also answer
			// AccessDenied (a mangled key ARN); everywhere else the value is
			// ours to reject, and it must be ErrOpen.
			inKey := i >= 3 && i < keyEnd
			if !errors.Is(err, envelope.ErrOpen) && !(inKey && isAPIError(err)) {
				t.Fatalf("byte %d ^ %#x: err = %v, want ErrOpen", i, bit, err)
			}
		}
	}
}

func TestOpenTruncated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	sealed, err := f.sealer.Seal(ctx, []byte(testPAN), panContext)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	for n := range len(sealed) {
		_, err := f.sealer.Open(ctx, sealed[:n], panContext)
		if !errors.Is(err, envelope.ErrOpen) {
			t.Fatalf("first %d of %d bytes: err = %v, want ErrOpen", n, len(sealed), err)
		}
	}
	_, err = f.sealer.Open(ctx, append(bytes.Clone(sealed), 0), panContext)
	if !errors.Is(err, envelope.ErrOpen) {
		t.Fatalf("one byte appended: err = %v, want ErrOpen", err)
	}
}

func TestOpenGarbage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	long := make([]byte, 300)
	rand.Read(long)
	long[0] = 1

	tests := []struct {
		name   string
		sealed []byte
	}{
		{"nil", nil},
		{"version only", []byte{1}},
		{"unknown version", []byte{2, 0, 1, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
			1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
		{"zero key length", append([]byte{1, 0, 0}, make([]byte, 40)...)},
		{"key length past end", []byte{1, 0xff, 0xff, 1, 2, 3}},
		{"random bytes", long},
		{"text", []byte("not a sealed value at all, just some words")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opened, err := f.sealer.Open(ctx, tt.sealed, panContext)
			if err == nil {
				t.Fatalf("Open succeeded with %x", opened)
			}
			if !errors.Is(err, envelope.ErrOpen) && !isAPIError(err) {
				t.Fatalf("err = %v, want ErrOpen or a KMS refusal", err)
			}
		})
	}
}

func TestDisabledKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	sealed, err := f.sealer.Seal(ctx, []byte(testPAN), panContext)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}

	_, err = f.client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(f.keyID)})
	if err != nil {
		t.Fatalf("DisableKey: %v", err)
	}

	_, err = f.sealer.Seal(ctx, []byte(testPAN), panContext)
	if errors.Is(err, envelope.ErrOpen) || apiErrorCode(err) != "DisabledException" {
		t.Fatalf("Seal with disabled key: err = %v, want wrapped DisabledException", err)
	}
	// AWS answers DisabledException here; local-kms answers AccessDeniedException.
	_, err = f.sealer.Open(ctx, sealed, panContext)
	if errors.Is(err, envelope.ErrOpen) || !isAPIError(err) {
		t.Fatalf("Open with disabled key: err = %v, want a wrapped KMS error", err)
	}

	_, err = f.client.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(f.keyID)})
	if err != nil {
		t.Fatalf("EnableKey: %v", err)
	}
	opened, err := f.sealer.Open(ctx, sealed, panContext)
	if err != nil || string(opened) != testPAN {
		t.Fatalf("Open after EnableKey: err = %v, plaintext ok = %t", err, string(opened) == testPAN)
	}
	if _, err := f.sealer.Seal(ctx, []byte(testPAN), panContext); err != nil {
		t.Fatalf("Seal after EnableKey: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	const workers, perWorker = 8, 10
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			ec := envelope.Context{Merchant: "mer_1", Record: fmt.Sprintf("tok_%d", w), Purpose: "pan"}
			for range perWorker {
				sealed, err := f.sealer.Seal(ctx, []byte(testPAN), ec)
				if err != nil {
					errs <- err
					return
				}
				opened, err := f.sealer.Open(ctx, sealed, ec)
				if err == nil && string(opened) != testPAN {
					err = errors.New("opened value differs from the sealed one")
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestSealUnknownKey(t *testing.T) {
	f := newFixture(t)
	sealer := envelope.New(f.client, "alias/does-not-exist")

	_, err := sealer.Seal(context.Background(), []byte(testPAN), panContext)
	if errors.Is(err, envelope.ErrOpen) || apiErrorCode(err) != "NotFoundException" {
		t.Fatalf("Seal err = %v, want wrapped NotFoundException", err)
	}
}

func isAPIError(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr)
}

func apiErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
