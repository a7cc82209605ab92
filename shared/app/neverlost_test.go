package app_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/app"
	"github.com/atlas-network-tokens/atlas/shared/eventschema"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/relay"
	"github.com/atlas-network-tokens/atlas/shared/relay/relaytest"
)

// The promise: a state change and its event are written together,
// so whatever fails between the write and the publish, every change yields
// its one event id in the end. Duplicates are allowed, losses are not.

// flakyPublisher records what it publishes. Its first failFirst calls fail
// before sending anything; the next loseAcks calls send and then fail, as a
// call whose answer was lost does.
type flakyPublisher struct {
	mu        sync.Mutex
	failFirst int
	loseAcks  int
	calls     int
	events    []publish.Event
}

var errPublish = errors.New("injected publish failure")

func (p *flakyPublisher) Publish(ctx context.Context, evs ...publish.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.calls <= p.failFirst {
		return errPublish
	}
	p.events = append(p.events, evs...)
	if p.calls <= p.failFirst+p.loseAcks {
		return errPublish
	}
	return nil
}

// delivered returns how often each event id was published, and checks each
// event against its schema.
func (p *flakyPublisher) delivered(t *testing.T) map[string]int {
	t.Helper()
	schemas, err := eventschema.Load()
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := map[string]int{}
	for _, e := range p.events {
		if seen[e.ID] == 0 {
			if err := schemas.ValidateEvent(e); err != nil {
				t.Errorf("delivered event: %v", err)
			}
		}
		seen[e.ID]++
	}
	return seen
}

// restartApp drops the harness's App, as a crash would, and builds a new
// one with its own DynamoDB client on the same table, publishing to pub.
func restartApp(h *harness, pub publish.Publisher) {
	db := dynamodb.New(h.stack.DynamoDB.Options())
	b := app.Backends{DynamoDB: db, KMS: h.stack.KMS, Publisher: pub}
	h.app = app.New(h.app.Config, b, logging.New(h.logs, "debug"), app.Options{Now: h.clock})
}

// stateChange is one state change and the outbox entries it wrote.
type stateChange struct {
	name     string
	wantType string
	eventIDs []string
}

// queuedEvents returns the queued events by id.
func queuedEvents(t *testing.T, h *harness) map[string]publish.Event {
	t.Helper()
	entries, err := h.app.Store.PendingOutbox(context.Background(), 1000)
	if err != nil {
		t.Fatalf("reading the outbox: %v", err)
	}
	queued := map[string]publish.Event{}
	for _, e := range entries {
		ev, err := relay.Decode(e.Event)
		if err != nil {
			t.Fatalf("outbox entry %s: %v", e.EventID, err)
		}
		queued[e.EventID] = ev
	}
	return queued
}

// liveThrough makes a token of each test card and takes it through the full
// lifecycle, calling after once after every change. It returns the changes
// in order, each with the outbox entries that appeared with it.
func liveThrough(t *testing.T, h *harness, after func()) []stateChange {
	t.Helper()
	var changes []stateChange
	record := func(name, wantType string, before map[string]publish.Event) {
		c := stateChange{name: name, wantType: wantType}
		for id, ev := range queuedEvents(t, h) {
			if _, old := before[id]; !old {
				c.eventIDs = append(c.eventIDs, id)
				if string(ev.Type) != wantType {
					t.Errorf("%s queued a %s event, want %s", name, ev.Type, wantType)
				}
			}
		}
		changes = append(changes, c)
		after()
	}
	for _, card := range networkCards {
		before := queuedEvents(t, h)
		f := newToken(t, h, card.number)
		record(card.network+": created", "network_token.created", before)
		for _, step := range fullLifecycle {
			before := queuedEvents(t, h)
			step.do(t, f)
			record(card.network+": "+step.name, step.wantType, before)
		}
	}
	return changes
}

// checkEveryChangeDelivered checks that each change queued exactly one
// event, that every such event was delivered, and that nothing else was.
func checkEveryChangeDelivered(t *testing.T, changes []stateChange, delivered map[string]int) {
	t.Helper()
	written := map[string]bool{}
	for _, c := range changes {
		if len(c.eventIDs) != 1 {
			t.Errorf("%s queued %d events, want 1", c.name, len(c.eventIDs))
		}
		for _, id := range c.eventIDs {
			written[id] = true
			if delivered[id] == 0 {
				t.Errorf("%s: event %s lost", c.name, id)
			}
		}
	}
	for id := range delivered {
		if !written[id] {
			t.Errorf("event %s delivered but no change queued it", id)
		}
	}
	if want := len(networkCards) * (1 + len(fullLifecycle)); len(changes) != want {
		t.Errorf("%d changes, want %d", len(changes), want)
	}
}

func TestNoEventLostWhenPublishingFails(t *testing.T) {
	tests := []struct {
		name      string
		failFirst int
		loseAcks  int
	}{
		{name: "rejected before sending", failFirst: 4},
		{name: "sent but not acknowledged", loseAcks: 4},
		{name: "both", failFirst: 3, loseAcks: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			pub := &flakyPublisher{failFirst: tt.failFirst, loseAcks: tt.loseAcks}
			restartApp(h, pub)

			var sweepErrors int
			changes := liveThrough(t, h, func() {
				queued := queuedEvents(t, h)
				if _, err := h.app.Relay.Sweep(context.Background()); err != nil {
					sweepErrors++
					if len(queuedEvents(t, h)) != len(queued) {
						t.Errorf("a failed sweep removed entries from the outbox")
					}
				}
			})
			if want := tt.failFirst + tt.loseAcks; sweepErrors != want {
				t.Errorf("%d sweeps failed, want %d", sweepErrors, want)
			}
			if left := queuedEvents(t, h); len(left) != 0 {
				t.Errorf("%d events still queued after the publisher recovered", len(left))
			}

			delivered := pub.delivered(t)
			checkEveryChangeDelivered(t, changes, delivered)
			total := 0
			for _, n := range delivered {
				total += n
			}
			if tt.loseAcks > 0 && total == len(delivered) {
				t.Errorf("no duplicates, though %d calls sent and then failed", tt.loseAcks)
			}
		})
	}
}

func TestNoEventLostWhenTheProcessDies(t *testing.T) {
	h := newHarness(t)
	changes := liveThrough(t, h, func() {}) // the process dies before any sweep
	if published := h.events.String(); published != "" {
		t.Fatalf("events published before any sweep: %s", published)
	}
	if n, want := len(queuedEvents(t, h)), len(changes); n != want {
		t.Fatalf("%d events queued, want %d", n, want)
	}

	pub := &flakyPublisher{}
	restartApp(h, pub)
	if _, err := h.app.Relay.Sweep(context.Background()); err != nil {
		t.Fatalf("sweep after restart: %v", err)
	}
	delivered := pub.delivered(t)
	checkEveryChangeDelivered(t, changes, delivered)
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("event %s delivered %d times by one sweep", id, n)
		}
	}
	if left := queuedEvents(t, h); len(left) != 0 {
		t.Errorf("%d events still queued", len(left))
	}
}

// The Lambda relay, fed the stream records that the changes' transactions
// made (token items and outbox items alike), delivers every event even when
// a publish fails: the failed records come back and arrive on redelivery.
func TestStreamRelayDeliversEveryChange(t *testing.T) {
	h := newHarness(t)
	stream := &tableStream{t: t, h: h}
	changes := liveThrough(t, h, stream.capture)
	pub := &flakyPublisher{failFirst: 1}
	restartApp(h, pub)

	resp, err := h.app.Relay.HandleStream(context.Background(), stream.event())
	if err != nil {
		t.Fatalf("HandleStream returned an error: %v", err)
	}
	failed := itemIdentifiers(resp)
	if want := stream.outboxSeqs[:10]; !slices.Equal(failed, want) {
		t.Fatalf("failed records %v, want the first publish call's %v", failed, want)
	}

	// Lambda retries from the first failed record on.
	from := slices.Index(stream.seqs(), failed[0])
	retry := events.DynamoDBEvent{Records: stream.records[from:]}
	if resp, err = h.app.Relay.HandleStream(context.Background(), retry); err != nil {
		t.Fatalf("HandleStream returned an error: %v", err)
	}
	if failed := itemIdentifiers(resp); len(failed) != 0 {
		t.Fatalf("records failed on redelivery: %v", failed)
	}
	checkEveryChangeDelivered(t, changes, pub.delivered(t))
	if left := queuedEvents(t, h); len(left) != 0 {
		t.Errorf("%d events still queued after the stream was relayed", len(left))
	}
}

// tableStream builds the stream records a change made from the items as
// they are stored after it: every token and outbox item that is new or
// changed since the last capture.
type tableStream struct {
	t          *testing.T
	h          *harness
	seen       map[string]map[string]types.AttributeValue
	records    []events.DynamoDBEventRecord
	outboxSeqs []string
}

func (s *tableStream) capture() {
	s.t.Helper()
	if s.seen == nil {
		s.seen = map[string]map[string]types.AttributeValue{}
	}
	items := tableItems(s.t, s.h)
	for _, key := range slices.Sorted(maps.Keys(items)) {
		item, old := items[key], s.seen[key]
		if old != nil && reflect.DeepEqual(old, item) {
			continue
		}
		name := "MODIFY"
		if old == nil {
			name = "INSERT"
		}
		n := len(s.records) + 1
		rec, err := relaytest.Record(name, n, old, item)
		if err != nil {
			s.t.Fatal(err)
		}
		if pk := item["pk"].(*types.AttributeValueMemberS).Value; strings.HasPrefix(pk, "OUTBOX#") {
			s.outboxSeqs = append(s.outboxSeqs, rec.Change.SequenceNumber)
		}
		s.records = append(s.records, rec)
		s.seen[key] = item
	}
}

func (s *tableStream) event() events.DynamoDBEvent {
	return events.DynamoDBEvent{Records: s.records}
}

func (s *tableStream) seqs() []string {
	var seqs []string
	for _, r := range s.records {
		seqs = append(seqs, r.Change.SequenceNumber)
	}
	return seqs
}

// tableItems reads every item of the table, keyed by pk and sk.
func tableItems(t *testing.T, h *harness) map[string]map[string]types.AttributeValue {
	t.Helper()
	items := map[string]map[string]types.AttributeValue{}
	var start map[string]types.AttributeValue
	for {
		out, err := h.stack.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{
			TableName: aws.String(h.app.Config.Table), ExclusiveStartKey: start,
		})
		if err != nil {
			t.Fatalf("scanning the table: %v", err)
		}
		for _, item := range out.Items {
			pk := item["pk"].(*types.AttributeValueMemberS).Value
			sk := item["sk"].(*types.AttributeValueMemberS).Value
			items[pk+" "+sk] = item
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			return items
		}
	}
}

func itemIdentifiers(resp events.DynamoDBEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}
