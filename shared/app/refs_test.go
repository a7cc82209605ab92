package app_test

import (
	"context"
	"testing"

	"github.com/atlas-network-tokens/atlas/shared/envelope"
)

// reference returns a network token's network reference, as a network
// would know the token.
func reference(t *testing.T, h *harness, ntID string) string {
	t.Helper()
	rec, err := h.app.Store.NetworkToken(context.Background(), ntID)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Reference
}

func sealerFor(h *harness) *envelope.Sealer {
	return envelope.New(h.stack.KMS, h.stack.KeyID)
}
