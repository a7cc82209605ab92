package app_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// TestSessionExpiry: a session lives 24 hours. From then on it is 401 on
// every route, although the emulator, like DynamoDB before its TTL sweep,
// still returns the item. The tokens it made outlive it.
func TestSessionExpiry(t *testing.T) {
	h := newHarness(t)
	f := newFixture(h)
	routes := clientRoutes(h.clock().Year() + 2)

	h.advance(24*time.Hour - time.Second)
	if st, body := h.get(f.s, f.ntID); st != http.StatusOK {
		t.Fatalf("GET one second before expiry: %d %v", st, body)
	}

	h.advance(time.Second)
	for _, r := range routes {
		t.Run(r.name, func(t *testing.T) {
			h.t = t
			resp := h.invoke(r.handler(h.app.Handlers), r.build(f, f.s.auth, f.s.id))
			expectError(t, resp, http.StatusUnauthorized, "invalid_session", "session_id")
		})
	}
	h.t = t

	item := sessionItem(t, h, f.s.id)
	if item == nil {
		t.Fatal("the expired session item is gone: the test no longer shows reads ignore expired items")
	}
	exp, ok := item["expiresAt"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("session item has no numeric expiresAt: %v", item)
	}
	if epoch, _ := strconv.ParseInt(exp.Value, 10, 64); epoch > h.clock().Unix() {
		t.Errorf("session item expiresAt %d is after the clock %d", epoch, h.clock().Unix())
	}
	if _, err := h.app.Store.Session(context.Background(), f.s.id); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("store.Session of an expired session: %v, want ErrNotFound", err)
	}

	fresh := h.newSession(h.key, "cus_a")
	if st, body := h.get(fresh, f.ntID); st != http.StatusOK {
		t.Errorf("a new session of the same customer cannot see the token: %d %v", st, body)
	}
}

// sessionItem reads a session's item straight from the table, bypassing the
// store's expiry check, or returns nil.
func sessionItem(t *testing.T, h *harness, id string) map[string]types.AttributeValue {
	t.Helper()
	res, err := h.stack.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{
		TableName:                 aws.String(h.stack.Table),
		FilterExpression:          aws.String("#id = :id"),
		ExpressionAttributeNames:  map[string]string{"#id": "id"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
	})
	if err != nil {
		t.Fatalf("scanning for the session: %v", err)
	}
	if len(res.Items) == 0 {
		return nil
	}
	return res.Items[0]
}
