package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/devstack"
	"github.com/atlas-network-tokens/atlas/shared/eventschema"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/relay"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// streamEnv is a relay over a table on the in-process dev stack.
type streamEnv struct {
	db    store.DynamoDB
	table string
	store *store.Store
	pub   *recorder
	relay *relay.Relay
	logs  *bytes.Buffer
}

func newStreamEnv(t *testing.T, failFirst int) *streamEnv {
	t.Helper()
	stack, err := devstack.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("starting dev stack: %v", err)
	}
	t.Cleanup(func() { _ = stack.Close() })
	return newStreamEnvOn(stack.DynamoDB, stack.Table, failFirst)
}

func newStreamEnvOn(db store.DynamoDB, table string, failFirst int) *streamEnv {
	env := &streamEnv{db: db, table: table, pub: &recorder{failFirst: failFirst},
		logs: &bytes.Buffer{}}
	env.store = store.New(db, table, time.Now)
	env.relay = relay.New(env.store, env.pub, logging.New(env.logs, "debug"))
	return env
}

// queue writes n events to the outbox and returns their ids and the stream
// records of their inserts, numbered from firstSeq.
func (env *streamEnv) queue(t *testing.T, n, firstSeq int) ([]string,
	[]events.DynamoDBEventRecord) {
	t.Helper()
	var ids []string
	var recs []events.DynamoDBEventRecord
	for i := range n {
		e := newEvent(t)
		putOutbox(t, env.db, env.store, env.table, e)
		item := outboxItem(t, env.db, env.table, e.ID)
		ids = append(ids, e.ID)
		recs = append(recs, streamRecord(t, "INSERT", firstSeq+i, nil, item))
	}
	return ids, recs
}

func (env *streamEnv) handle(t *testing.T, recs []events.DynamoDBEventRecord) []string {
	t.Helper()
	resp, err := env.relay.HandleStream(context.Background(), events.DynamoDBEvent{Records: recs})
	if err != nil {
		t.Fatalf("HandleStream returned an error: %v", err)
	}
	return failedSeqs(resp)
}

// outboxHas reports which of the ids still have an outbox item.
func (env *streamEnv) outboxHas(t *testing.T, ids []string) []string {
	t.Helper()
	left := []string{}
	for _, id := range ids {
		if outboxItem(t, env.db, env.table, id) != nil {
			left = append(left, id)
		}
	}
	return left
}

// A batch as the stream delivers it without filtering: the relay publishes
// outbox inserts, ignores every other record and fails malformed outbox
// records alone.
func TestHandleStreamRecords(t *testing.T) {
	env := newStreamEnv(t, 0)
	ids, inserts := env.queue(t, 5, 1)
	good, noEvent, notJSON, otherID, numberEvent := ids[0], ids[1], ids[2], ids[3], ids[4]

	item := func(id string) map[string]types.AttributeValue {
		return outboxItem(t, env.db, env.table, id)
	}
	without := func(id, attr string) map[string]types.AttributeValue {
		it := item(id)
		delete(it, attr)
		return it
	}
	with := func(id, attr string, v types.AttributeValue) map[string]types.AttributeValue {
		it := item(id)
		it[attr] = v
		return it
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	tokenItem := map[string]types.AttributeValue{
		"pk": s("NT#nt_1"), "sk": s("NT"), "status": s("active"),
	}
	numericKey := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberN{Value: "7"}, "sk": s("OUTBOX"),
	}

	recs := []events.DynamoDBEventRecord{
		inserts[0],
		streamRecord(t, "INSERT", 10, nil, without(noEvent, "event")),
		streamRecord(t, "INSERT", 11, nil, with(notJSON, "event", s("{not json"))),
		streamRecord(t, "INSERT", 12, nil, with(otherID, "event", item(good)["event"])),
		streamRecord(t, "INSERT", 13, nil,
			with(numberEvent, "event", &types.AttributeValueMemberN{Value: "1"})),
		streamRecord(t, "REMOVE", 14, item(good), nil),
		streamRecord(t, "MODIFY", 15, item(good), item(good)),
		streamRecord(t, "INSERT", 16, nil, tokenItem),
		streamRecord(t, "MODIFY", 17, tokenItem, tokenItem),
		streamRecord(t, "INSERT", 18, nil, numericKey),
		{EventName: "INSERT", Change: events.DynamoDBStreamRecord{SequenceNumber: sequenceNumber(19)}},
		{},
	}
	failed := env.handle(t, recs)

	wantFailed := []string{sequenceNumber(10), sequenceNumber(11), sequenceNumber(12),
		sequenceNumber(13)}
	if !slices.Equal(failed, wantFailed) {
		t.Errorf("failed records %v, want %v", failed, wantFailed)
	}
	if got := env.pub.delivered(); len(got) != 1 || got[good] != 1 {
		t.Errorf("published %v, want %s once", got, good)
	}
	if left := env.outboxHas(t, ids); !slices.Equal(left, ids[1:]) {
		t.Errorf("outbox holds %v, want the malformed entries %v", left, ids[1:])
	}
	if n := strings.Count(env.logs.String(), "malformed outbox record"); n != 4 {
		t.Errorf("%d malformed records logged, want 4:\n%s", n, env.logs)
	}
}

// Lambda retries a stream from the first failed record on, until nothing
// fails: every event arrives, some twice, and the outbox empties.
func TestHandleStreamPublishFailures(t *testing.T) {
	const n = 25 // three publish calls: 10, 10 and 5 events
	tests := []struct {
		failFirst  int
		wantFailed int // records reported failed on the first delivery
	}{
		{failFirst: 0, wantFailed: 0},
		{failFirst: 1, wantFailed: 10},
		{failFirst: 2, wantFailed: 20},
		{failFirst: 3, wantFailed: 25},
		{failFirst: 7, wantFailed: 25},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("first %d calls fail", tt.failFirst), func(t *testing.T) {
			env := newStreamEnv(t, tt.failFirst)
			ids, recs := env.queue(t, n, 1)

			failed := env.handle(t, recs)
			var want []string
			for _, r := range recs[:tt.wantFailed] {
				want = append(want, r.Change.SequenceNumber)
			}
			if !slices.Equal(failed, want) {
				t.Fatalf("failed %v, want %v", failed, want)
			}
			if left := env.outboxHas(t, ids); !slices.Equal(left, ids[:tt.wantFailed]) {
				t.Fatalf("outbox holds %d entries, want the %d failed", len(left), tt.wantFailed)
			}

			redeliverUntilDone(t, env, recs, failed)
			got := env.pub.delivered()
			for _, id := range ids {
				if got[id] == 0 {
					t.Errorf("event %s lost", id)
				}
			}
			if len(got) != n {
				t.Errorf("%d distinct events delivered, want %d", len(got), n)
			}
			if left := env.outboxHas(t, ids); len(left) != 0 {
				t.Errorf("outbox still holds %v", left)
			}
		})
	}
}

// redeliverUntilDone plays Lambda's retries: the batch again from the first
// failed record, until no record fails.
func redeliverUntilDone(t *testing.T, env *streamEnv, recs []events.DynamoDBEventRecord,
	failed []string) {
	t.Helper()
	for attempt := 0; len(failed) > 0; attempt++ {
		if attempt == 10 {
			t.Fatalf("records %v still fail after %d retries", failed, attempt)
		}
		from := slices.IndexFunc(recs, func(r events.DynamoDBEventRecord) bool {
			return r.Change.SequenceNumber == failed[0]
		})
		recs = recs[from:]
		failed = env.handle(t, recs)
	}
}

// deleteFails is a table whose DeleteItem always fails.
type deleteFails struct{ store.DynamoDB }

func (deleteFails) DeleteItem(context.Context, *dynamodb.DeleteItemInput,
	...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, errors.New("injected delete failure")
}

// An event published but not deleted is not retried: it went out, and its
// outbox item expires by TTL.
func TestHandleStreamDeleteFailure(t *testing.T) {
	stack, err := devstack.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Close() })
	env := newStreamEnvOn(deleteFails{stack.DynamoDB}, stack.Table, 0)
	ids, recs := env.queue(t, 2, 1)

	if failed := env.handle(t, recs); len(failed) != 0 {
		t.Fatalf("failed %v, want none", failed)
	}
	if got := env.pub.delivered(); len(got) != 2 {
		t.Fatalf("published %v, want both", got)
	}
	if left := env.outboxHas(t, ids); len(left) != 2 {
		t.Fatalf("outbox holds %v, want both entries left", left)
	}
	if !strings.Contains(env.logs.String(), "published but not deleted") {
		t.Fatalf("no warning logged:\n%s", env.logs)
	}
}

// events/relay.json, the sample for sam local invoke, is a batch the relay
// publishes, and the event in it is valid.
func TestHandleStreamSampleEvent(t *testing.T) {
	body, err := os.ReadFile("../../events/relay.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("decoding the sample: %v", err)
	}
	env := newStreamEnv(t, 0)
	if failed := env.handle(t, ev.Records); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if len(env.pub.events) != 1 {
		t.Fatalf("published %d events, want 1", len(env.pub.events))
	}
	published := env.pub.events[0]
	if pk := ev.Records[0].Change.Keys["pk"].String(); pk != "OUTBOX#"+published.ID {
		t.Errorf("published %s from %s", published.ID, pk)
	}
	schemas, err := eventschema.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := schemas.ValidateEvent(published); err != nil {
		t.Errorf("sample event: %v", err)
	}
}
