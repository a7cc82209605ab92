package publish

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// recordingBus is a hand-written PutEvents client: it records each call and
// answers with the failures planned for that call.
type recordingBus struct {
	calls    [][]types.PutEventsRequestEntry
	failCall int   // 1-based call whose entries 0 and 1 the bus rejects; 0 for none
	err      error // returned by every call when set
}

func (b *recordingBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput,
	_ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	b.calls = append(b.calls, in.Entries)
	if b.err != nil {
		return nil, b.err
	}
	out := &eventbridge.PutEventsOutput{}
	for i := range in.Entries {
		result := types.PutEventsResultEntry{EventId: aws.String("bus-id")}
		if len(b.calls) == b.failCall && i < 2 {
			result = types.PutEventsResultEntry{
				ErrorCode:    aws.String("InternalFailure"),
				ErrorMessage: aws.String("try again"),
			}
			out.FailedEntryCount++
		}
		out.Entries = append(out.Entries, result)
	}
	return out, nil
}

func TestEventBridgeBatches(t *testing.T) {
	for _, n := range []int{0, 1, 10, 11, 25} {
		bus := &recordingBus{}
		pub, err := NewEventBridge(bus, "atlas-bus")
		if err != nil {
			t.Fatal(err)
		}
		events := make([]Event, n)
		for i := range events {
			events[i] = mustEvent(t, NetworkTokenResumed, map[string]int{"n": i})
		}

		if err := pub.Publish(context.Background(), events...); err != nil {
			t.Fatalf("%d events: %v", n, err)
		}

		sent := 0
		for _, batch := range bus.calls {
			if len(batch) == 0 || len(batch) > 10 {
				t.Errorf("%d events: batch of %d", n, len(batch))
			}
			for _, entry := range batch {
				checkEntry(t, entry, events[sent])
				sent++
			}
		}
		if sent != n || len(bus.calls) != (n+9)/10 {
			t.Errorf("%d events: sent %d in %d calls", n, sent, len(bus.calls))
		}
	}
}

func checkEntry(t *testing.T, entry types.PutEventsRequestEntry, e Event) {
	t.Helper()
	want, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(entry.Detail); got != string(want) {
		t.Errorf("detail = %s, want %s", got, want)
	}
	if aws.ToString(entry.Source) != Source ||
		aws.ToString(entry.EventBusName) != "atlas-bus" ||
		aws.ToString(entry.DetailType) != string(e.Type) ||
		!aws.ToTime(entry.Time).Equal(e.CreatedAt) {
		t.Errorf("entry source %q bus %q detail-type %q time %v", aws.ToString(entry.Source),
			aws.ToString(entry.EventBusName), aws.ToString(entry.DetailType), entry.Time)
	}
}

func TestEventBridgeFailures(t *testing.T) {
	events := make([]Event, 25)
	for i := range events {
		events[i] = mustEvent(t, NetworkTokenDeleted, struct{}{})
	}

	tests := []struct {
		name      string
		bus       *recordingBus
		wantCalls int
		wantMsg   string
	}{
		{name: "rejected entries", bus: &recordingBus{failCall: 2}, wantCalls: 2,
			wantMsg: "publish events 11 to 20 of 25: put events: 2 of 10 entries failed " +
				"(first: InternalFailure: try again): service unavailable"},
		{name: "call fails", bus: &recordingBus{err: errors.New("connection refused")},
			wantCalls: 1,
			wantMsg: "publish events 1 to 10 of 25: put events: service unavailable: " +
				"connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, _ := NewEventBridge(tt.bus, "atlas-bus")
			err := pub.Publish(context.Background(), events...)
			if !errors.Is(err, fault.ErrUnavailable) {
				t.Fatalf("error = %v, want one wrapping fault.ErrUnavailable", err)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("error = %q\nwant    %q", err, tt.wantMsg)
			}
			if len(tt.bus.calls) != tt.wantCalls {
				t.Errorf("made %d calls, want %d (stop at the failure)", len(tt.bus.calls),
					tt.wantCalls)
			}
		})
	}
}

func TestEventBridgeRefusesBadEvents(t *testing.T) {
	bus := &recordingBus{}
	pub, _ := NewEventBridge(bus, "atlas-bus")
	good := mustEvent(t, NetworkTokenCreated, struct{}{})
	bad := good
	bad.Type = "network_token.created " // a typo NewEvent would have refused

	err := pub.Publish(context.Background(), good, bad)
	if err == nil || !strings.Contains(err.Error(), "unknown type") {
		t.Fatalf("error = %v, want unknown type", err)
	}
	if len(bus.calls) != 0 {
		t.Errorf("sent %d batches despite a bad event", len(bus.calls))
	}
}

func TestNewEventBridgeChecksArguments(t *testing.T) {
	if _, err := NewEventBridge(nil, "atlas-bus"); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := NewEventBridge(&recordingBus{}, ""); err == nil {
		t.Error("empty bus name accepted")
	}
}
