package webhook

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/relay"
)

// HandleEventBridge is the dispatcher function's Lambda handler. The rule
// on the bus hands it each event the EventBridge publisher sent: source
// publish.Source, detail-type the event type, detail the event's JSON,
// which it delivers with Deliver.
//
// Unlike the HTTP handlers it returns an error on purpose: an event that
// some endpoint did not take, or that cannot be read, fails the invocation,
// so that Lambda retries it and then parks it in the dead-letter queue
// configured for the function.
func (d *Dispatcher) HandleEventBridge(ctx context.Context, in events.EventBridgeEvent) error {
	ev, err := FromEventBridge(in)
	if err != nil {
		return err
	}
	return d.Deliver(ctx, ev)
}

// FromEventBridge reads our event out of an EventBridge envelope, keeping
// its data as raw JSON so that it is delivered byte for byte as published.
func FromEventBridge(in events.EventBridgeEvent) (publish.Event, error) {
	if in.Source != publish.Source {
		return publish.Event{}, fmt.Errorf("eventbridge event %s: source %q is not %q",
			in.ID, in.Source, publish.Source)
	}
	ev, err := relay.Decode(string(in.Detail))
	if err != nil {
		return publish.Event{}, fmt.Errorf("eventbridge event %s: %w", in.ID, err)
	}
	if string(ev.Type) != in.DetailType {
		return publish.Event{}, fmt.Errorf("eventbridge event %s: detail-type %q but type %q",
			in.ID, in.DetailType, ev.Type)
	}
	return ev, nil
}
