package relay_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// A malformed outbox entry cannot be published; it must not stop the
// entries around it from going out, now or at any later sweep.
func TestSweepDropsAnUndecodableEntryAndGoesOn(t *testing.T) {
	env := newStreamEnv(t, 0)
	good, _ := env.queue(t, 3, 1)

	bad, err := attributevalue.MarshalMap(env.store.NewOutboxEntry("evt_broken", []byte("{not json")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.db.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(env.table), Item: bad,
	}); err != nil {
		t.Fatal(err)
	}

	n, err := env.relay.Sweep(context.Background())
	if err != nil || n != len(good) {
		t.Fatalf("Sweep = %d, %v; want %d published", n, err, len(good))
	}
	delivered := env.pub.delivered()
	for _, id := range good {
		if delivered[id] != 1 {
			t.Errorf("event %s delivered %d times, want 1", id, delivered[id])
		}
	}
	if left := env.outboxHas(t, append(good, "evt_broken")); len(left) != 0 {
		t.Fatalf("outbox still holds %v", left)
	}
	if !strings.Contains(env.logs.String(), "evt_broken") {
		t.Fatal("dropping the broken entry was not logged")
	}
	if n, err := env.relay.Sweep(context.Background()); n != 0 || err != nil {
		t.Fatalf("second sweep = %d, %v; want nothing left", n, err)
	}
}

// More events than one batch holds all go out in one sweep, each once.
func TestSweepDrainsSeveralBatches(t *testing.T) {
	env := newStreamEnv(t, 0)
	ids, _ := env.queue(t, 60, 1)

	n, err := env.relay.Sweep(context.Background())
	if err != nil || n != len(ids) {
		t.Fatalf("Sweep = %d, %v; want %d", n, err, len(ids))
	}
	delivered := env.pub.delivered()
	for _, id := range ids {
		if delivered[id] != 1 {
			t.Errorf("event %s delivered %d times, want 1", id, delivered[id])
		}
	}
	if left := env.outboxHas(t, ids); len(left) != 0 {
		t.Fatalf("outbox still holds %d entries", len(left))
	}
}

// A publisher that fails leaves every entry for the next sweep.
func TestSweepKeepsEntriesWhenPublishingFails(t *testing.T) {
	env := newStreamEnv(t, 1)
	ids, _ := env.queue(t, 3, 1)

	if _, err := env.relay.Sweep(context.Background()); err == nil {
		t.Fatal("Sweep hid a publishing failure")
	}
	if left := env.outboxHas(t, ids); len(left) != len(ids) {
		t.Fatalf("after a failed publish the outbox holds %d of %d", len(left), len(ids))
	}
	if n, err := env.relay.Sweep(context.Background()); err != nil || n != len(ids) {
		t.Fatalf("second Sweep = %d, %v; want %d", n, err, len(ids))
	}
}
