package envelope_test

// Unit tests with a hand-written stub KMS. The stub ignores the encryption
// context, so these tests show what the AEAD alone guarantees, and it can
// return any error or malformed answer a real KMS might.

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-network-tokens/atlas/shared/envelope"
)

// stubKMS hands out one fixed data key. Decrypt returns it for the one
// encrypted blob it issued and refuses anything else as KMS would.
type stubKMS struct {
	dataKey    []byte // copied into every answer, since the Sealer zeroes what it gets
	wrappedKey []byte
	err        error // when set, every call fails with it
	calls      int
}

func newStubKMS() *stubKMS {
	return &stubKMS{
		dataKey:    bytes.Repeat([]byte{0x5a}, 32),
		wrappedKey: []byte("stub-wrapped-data-key"),
	}
}

func (s *stubKMS) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput,
	_ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	return &kms.GenerateDataKeyOutput{
		KeyId:          in.KeyId,
		Plaintext:      bytes.Clone(s.dataKey),
		CiphertextBlob: bytes.Clone(s.wrappedKey),
	}, nil
}

func (s *stubKMS) Decrypt(_ context.Context, in *kms.DecryptInput,
	_ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	if !bytes.Equal(in.CiphertextBlob, s.wrappedKey) {
		return nil, &types.InvalidCiphertextException{Message: aws.String("stub: unknown blob")}
	}
	return &kms.DecryptOutput{Plaintext: bytes.Clone(s.dataKey)}, nil
}

func TestAdditionalDataBindsContext(t *testing.T) {
	stub := newStubKMS()
	sealer := envelope.New(stub, "alias/stub")
	ctx := context.Background()
	sealedUnder := envelope.Context{Merchant: "a", Record: "bc", Purpose: "pan"}

	sealed, err := sealer.Seal(ctx, []byte(testPAN), sealedUnder)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if _, err := sealer.Open(ctx, sealed, sealedUnder); err != nil {
		t.Fatalf("Open under the sealing context: %v", err)
	}

	others := []envelope.Context{
		{Merchant: "ab", Record: "c", Purpose: "pan"}, // same concatenation, other split
		{Merchant: "a", Record: "b", Purpose: "cpan"},
		{Merchant: "a", Record: "bd", Purpose: "pan"},
		{Merchant: "a", Record: "bc", Purpose: "expiry"},
		{Merchant: "A", Record: "bc", Purpose: "pan"},
	}
	for _, ec := range others {
		if _, err := sealer.Open(ctx, sealed, ec); !errors.Is(err, envelope.ErrOpen) {
			t.Errorf("Open under %+v: err = %v, want ErrOpen", ec, err)
		}
	}
}

func TestInvalidContextIsRefusedBeforeKMS(t *testing.T) {
	tests := []struct {
		name string
		ec   envelope.Context
	}{
		{"zero", envelope.Context{}},
		{"no merchant", envelope.Context{Record: "tok_1", Purpose: "pan"}},
		{"no record", envelope.Context{Merchant: "mer_1", Purpose: "pan"}},
		{"no purpose", envelope.Context{Merchant: "mer_1", Record: "tok_1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := newStubKMS()
			sealer := envelope.New(stub, "alias/stub")
			ctx := context.Background()

			_, sealErr := sealer.Seal(ctx, []byte(testPAN), tt.ec)
			_, openErr := sealer.Open(ctx, []byte{1, 0, 1, 0}, tt.ec)
			for _, err := range []error{sealErr, openErr} {
				if err == nil || errors.Is(err, envelope.ErrOpen) {
					t.Errorf("err = %v, want a context error that is not ErrOpen", err)
				}
			}
			if stub.calls != 0 {
				t.Errorf("KMS called %d times, want 0", stub.calls)
			}
		})
	}
}

func TestSealWithoutKeyID(t *testing.T) {
	stub := newStubKMS()
	_, err := envelope.New(stub, "").Seal(context.Background(), []byte(testPAN), panContext)
	if err == nil || stub.calls != 0 {
		t.Fatalf("err = %v after %d KMS calls, want an error and no call", err, stub.calls)
	}
}

func TestKMSErrorsStayClassifiable(t *testing.T) {
	tests := []struct {
		name     string
		kmsErr   error
		wantOpen bool // Open must report ErrOpen rather than the KMS error
	}{
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}, false},
		{"internal", &types.KMSInternalException{Message: aws.String("boom")}, false},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException"}, false},
		{"transport", errors.New("dial tcp: connection refused"), false},
		{"invalid ciphertext", &types.InvalidCiphertextException{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := newStubKMS()
			sealer := envelope.New(stub, "alias/stub")
			ctx := context.Background()
			sealed, err := sealer.Seal(ctx, []byte(testPAN), panContext)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			stub.err = tt.kmsErr

			_, openErr := sealer.Open(ctx, sealed, panContext)
			if got := errors.Is(openErr, envelope.ErrOpen); got != tt.wantOpen {
				t.Fatalf("Open err = %v; ErrOpen = %t, want %t", openErr, got, tt.wantOpen)
			}
			if !tt.wantOpen && !errors.Is(openErr, tt.kmsErr) {
				t.Fatalf("Open err = %v, want it to wrap the KMS error", openErr)
			}

			_, sealErr := sealer.Seal(ctx, []byte(testPAN), panContext)
			if !errors.Is(sealErr, tt.kmsErr) || errors.Is(sealErr, envelope.ErrOpen) {
				t.Fatalf("Seal err = %v, want the KMS error wrapped, not ErrOpen", sealErr)
			}
		})
	}
}

func TestUnusableKMSAnswers(t *testing.T) {
	tests := []struct {
		name       string
		dataKey    []byte
		wrappedKey []byte
	}{
		{"short data key", make([]byte, 16), []byte("wrapped")},
		{"empty data key", nil, []byte("wrapped")},
		{"empty encrypted key", make([]byte, 32), nil},
		{"oversized encrypted key", make([]byte, 32), make([]byte, 1<<16)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := &stubKMS{dataKey: tt.dataKey, wrappedKey: tt.wrappedKey}
			sealed, err := envelope.New(stub, "alias/stub").
				Seal(context.Background(), []byte(testPAN), panContext)
			if err == nil {
				t.Fatalf("Seal succeeded (%d bytes), want error", len(sealed))
			}
		})
	}
}

func TestErrorsCarryNoSecrets(t *testing.T) {
	stub := newStubKMS()
	sealer := envelope.New(stub, "alias/stub")
	ctx := context.Background()
	sealed, err := sealer.Seal(ctx, []byte(testPAN), panContext)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}

	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	_, tamperErr := sealer.Open(ctx, tampered, panContext)
	_, contextErr := sealer.Open(ctx, sealed, envelope.Context{Merchant: "m", Record: "r"})

	for _, err := range []error{tamperErr, contextErr} {
		text := err.Error()
		for _, secret := range []string{testPAN, string(stub.dataKey), string(stub.wrappedKey)} {
			if strings.Contains(text, secret) {
				t.Fatalf("error %q contains secret material", text)
			}
		}
	}
}
