package envelope_test

import (
	"context"
	"errors"
	"testing"

	"github.com/atlas-network-tokens/atlas/shared/envelope"
)

// FuzzOpen feeds arbitrary bytes to Open. It must never panic, must call every
// refusal ErrOpen (the stub KMS has no other way to fail), and may accept only
// unaltered values from Seal. Fuzzing runs in several processes, each sealing
// its own seeds with fresh nonces, so "unaltered" is checked as: the plaintext
// is one that was sealed, and the value has exactly the sealed length. Run
// it longer with
//
//	go test ./shared/envelope -run '^$' -fuzz FuzzOpen -fuzztime 30s
func FuzzOpen(f *testing.F) {
	stub := newStubKMS()
	sealer := envelope.New(stub, "alias/stub")
	ctx := context.Background()

	sealedLength := map[string]int{} // plaintext -> length of its sealed value
	for _, plaintext := range []string{"", "x", testPAN, "12/29"} {
		sealed, err := sealer.Seal(ctx, []byte(plaintext), panContext)
		if err != nil {
			f.Fatalf("Seal: %v", err)
		}
		sealedLength[plaintext] = len(sealed)
		f.Add(sealed)
		f.Add(sealed[:len(sealed)-1])
		f.Add(sealed[:3+len(stub.wrappedKey)+12])
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{1, 0, 0})
	f.Add([]byte{1, 0xff, 0xff, 0})
	f.Add([]byte{2, 0, 1, 0})

	f.Fuzz(func(t *testing.T, sealed []byte) {
		opened, err := sealer.Open(ctx, sealed, panContext)
		if err != nil {
			if !errors.Is(err, envelope.ErrOpen) {
				t.Fatalf("err = %v, want ErrOpen", err)
			}
			if opened != nil {
				t.Fatal("plaintext returned along with an error")
			}
			return
		}
		if n, ok := sealedLength[string(opened)]; !ok || n != len(sealed) {
			t.Fatalf("Open accepted a value Seal never made: %x", sealed)
		}
	})
}
