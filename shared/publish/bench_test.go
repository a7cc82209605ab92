package publish

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
)

var benchData = map[string]string{"networkTokenId": "nt_abc123", "status": "active"}

func BenchmarkNewEvent(b *testing.B) {
	now := time.Now()
	for b.Loop() {
		if _, err := NewEvent(NetworkTokenCreated, "mer_1", benchData, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventBridgeEntries(b *testing.B) {
	e, err := NewEvent(NetworkTokenCreated, "mer_1", benchData, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	pub, _ := NewEventBridge(discardBus{}, "atlas-bus")
	events := []Event{e, e, e, e, e, e, e, e, e, e}
	for b.Loop() {
		if err := pub.Publish(context.Background(), events...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONLines(b *testing.B) {
	e, err := NewEvent(NetworkTokenCreated, "mer_1", benchData, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	pub, _ := NewJSONLines(io.Discard)
	for b.Loop() {
		if err := pub.Publish(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
}

// discardBus accepts every entry without sending it anywhere.
type discardBus struct{}

func (discardBus) PutEvents(context.Context, *eventbridge.PutEventsInput,
	...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return &eventbridge.PutEventsOutput{}, nil
}
