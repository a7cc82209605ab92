package envelope_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/atlas-network-tokens/atlas/shared/envelope"
)

// benchPlaintext is 200 bytes, about the size of the largest value sealed.
var benchPlaintext = bytes.Repeat([]byte("4111111111111111"), 13)[:200]

// BenchmarkSeal seals through local-kms over loopback HTTP: one
// GenerateDataKey round trip plus the AES-256-GCM work.
func BenchmarkSeal(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	b.ReportAllocs()

	for b.Loop() {
		if _, err := f.sealer.Seal(ctx, benchPlaintext, panContext); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen opens through local-kms over loopback HTTP: one Decrypt
// round trip plus the AES-256-GCM work.
func BenchmarkOpen(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	sealed, err := f.sealer.Seal(ctx, benchPlaintext, panContext)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()

	for b.Loop() {
		if _, err := f.sealer.Open(ctx, sealed, panContext); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAEADOnly is everything but KMS: Seal and Open with a stub KMS
// that hands back a data key from memory. Per value that is building AES-256
// and GCM for a fresh key, a random nonce (seal), framing, the additional
// data and the GCM operation: the local cost added to each KMS round trip.
func BenchmarkAEADOnly(b *testing.B) {
	sealer := envelope.New(newStubKMS(), "alias/stub")
	ctx := context.Background()

	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sealer.Seal(ctx, benchPlaintext, panContext); err != nil {
				b.Fatal(err)
			}
		}
	})

	sealed, err := sealer.Seal(ctx, benchPlaintext, panContext)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sealer.Open(ctx, sealed, panContext); err != nil {
				b.Fatal(err)
			}
		}
	})
}
