package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/devstack"
	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

func webhookStore(t *testing.T) *store.Store {
	t.Helper()
	stack, err := devstack.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("starting dev stack: %v", err)
	}
	t.Cleanup(func() { stack.Close() })
	return store.New(stack.DynamoDB, stack.Table, time.Now)
}

func TestWebhookEndpoints(t *testing.T) {
	ctx := context.Background()
	st := webhookStore(t)
	put := func(merchant, id string, events ...string) error {
		return st.PutWebhookEndpoint(ctx, store.WebhookEndpoint{
			ID: id, MerchantID: merchant, URL: "https://example.com/" + id, Events: events,
			SealedSecret: []byte{1, 2, 3}, CreatedAt: "2025-01-21T12:00:00Z",
		})
	}
	for i := range 3 {
		if err := put("mer_1", fmt.Sprintf("we_%d", i), "network_token.created"); err != nil {
			t.Fatal(err)
		}
	}
	if err := put("mer_2", "we_9"); err != nil {
		t.Fatal(err)
	}
	if err := put("mer_1", "we_1"); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("same id again: %v, want a conflict", err)
	}

	tests := []struct {
		merchant string
		want     []string
	}{
		{"mer_1", []string{"we_0", "we_1", "we_2"}},
		{"mer_2", []string{"we_9"}},
		{"mer_3", nil},
		{"mer_", nil}, // a prefix of another merchant's id finds nothing
	}
	for _, tt := range tests {
		got, err := st.WebhookEndpoints(ctx, tt.merchant)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, we := range got {
			ids = append(ids, we.ID)
			if we.MerchantID != tt.merchant || we.URL != "https://example.com/"+we.ID ||
				len(we.SealedSecret) != 3 {
				t.Errorf("%s: record %+v", tt.merchant, we)
			}
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("%s: ids %v, want %v", tt.merchant, ids, tt.want)
		}
	}
	got, _ := st.WebhookEndpoints(ctx, "mer_2")
	if len(got) != 1 || got[0].Events != nil {
		t.Errorf("endpoint without events read back as %+v", got)
	}

	if err := st.DeleteWebhookEndpoint(ctx, "mer_2", "we_1"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("deleting another merchant's endpoint: %v", err)
	}
	if err := st.DeleteWebhookEndpoint(ctx, "mer_1", "we_1"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteWebhookEndpoint(ctx, "mer_1", "we_1"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	if got, _ := st.WebhookEndpoints(ctx, "mer_1"); len(got) != 2 {
		t.Errorf("after delete: %d endpoints", len(got))
	}
}
