package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/relay/relaytest"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// recorder is a publisher that keeps what it was given. Its first failFirst
// calls fail without publishing anything.
type recorder struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	events    []publish.Event
}

var errInjected = errors.New("injected publish failure")

func (r *recorder) Publish(ctx context.Context, evs ...publish.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls <= r.failFirst {
		return errInjected
	}
	r.events = append(r.events, evs...)
	return nil
}

// delivered returns how often each event id was published.
func (r *recorder) delivered() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[string]int)
	for _, e := range r.events {
		seen[e.ID]++
	}
	return seen
}

// newEvent makes a network_token.deleted event its schema accepts.
func newEvent(t testing.TB) publish.Event {
	t.Helper()
	data := map[string]any{
		"networkTokenId": "nt_4f1c2a9be0d3475a8c6e1f20b7d95a31", "network": "visa",
		"status": "deleted", "reason": "MERCHANT_REQUEST",
	}
	e, err := publish.NewEvent(publish.NetworkTokenDeleted, "mer_relay", data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// putOutbox writes an event to the outbox as the service does, but alone.
func putOutbox(t testing.TB, db store.DynamoDB, st *store.Store, table string,
	e publish.Event) {
	t.Helper()
	body, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	item, err := attributevalue.MarshalMap(st.NewOutboxEntry(e.ID, body))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(table), Item: item,
	})
	if err != nil {
		t.Fatalf("writing outbox entry: %v", err)
	}
}

// outboxItem reads an event's outbox item as it is stored, or nil.
func outboxItem(t testing.TB, db store.DynamoDB, table,
	eventID string) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "OUTBOX#" + eventID},
			"sk": &types.AttributeValueMemberS{Value: "OUTBOX"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("reading outbox entry %s: %v", eventID, err)
	}
	return out.Item
}

// streamRecord is the record a NEW_AND_OLD_IMAGES stream shows for a change
// of item (nil old or new image for an insert or a removal).
func streamRecord(t testing.TB, name string, seq int, oldItem,
	newItem map[string]types.AttributeValue) events.DynamoDBEventRecord {
	t.Helper()
	rec, err := relaytest.Record(name, seq, oldItem, newItem)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func sequenceNumber(i int) string { return relaytest.SequenceNumber(i) }

// failedSeqs returns the sequence numbers a stream response reports.
func failedSeqs(resp events.DynamoDBEventResponse) []string {
	seqs := []string{}
	for _, f := range resp.BatchItemFailures {
		seqs = append(seqs, f.ItemIdentifier)
	}
	return seqs
}
