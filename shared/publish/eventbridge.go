package publish

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// Source is the EventBridge source of every event this service publishes.
// Rules on the bus match on it.
const Source = "atlas.network-tokens"

// maxBatch is the most entries EventBridge takes in one PutEvents call.
const maxBatch = 10

// PutEventsAPI is the one EventBridge call the publisher makes;
// *eventbridge.Client has it.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput,
		opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// EventBridge publishes events to an event bus. Each event becomes one entry
// with source Source, detail-type the event type and detail the event's JSON.
//
// It sends at most ten entries per PutEvents call and does not retry entries
// the bus rejected; it reports them as an error wrapping fault.ErrUnavailable.
// It does not check EventBridge's 256 KB request size limit: events here are
// small, and an oversized request fails with the service's own error.
type EventBridge struct {
	client PutEventsAPI
	bus    string
}

// NewEventBridge returns a publisher that sends to the named bus.
func NewEventBridge(client PutEventsAPI, busName string) (*EventBridge, error) {
	if client == nil {
		return nil, fmt.Errorf("eventbridge publisher: no client")
	}
	if busName == "" {
		return nil, fmt.Errorf("eventbridge publisher: no event bus name")
	}
	return &EventBridge{client: client, bus: busName}, nil
}

// Publish sends the events in batches of at most ten. A failed call, or one
// in which the bus rejected any entry, stops it with an error wrapping
// fault.ErrUnavailable; earlier batches have been sent by then.
func (p *EventBridge) Publish(ctx context.Context, events ...Event) error {
	entries := make([]types.PutEventsRequestEntry, 0, len(events))
	for _, e := range events {
		entry, err := p.entry(e)
		if err != nil {
			return fmt.Errorf("publish events: %w", err)
		}
		entries = append(entries, entry)
	}

	for start := 0; start < len(entries); start += maxBatch {
		end := min(start+maxBatch, len(entries))
		if err := p.put(ctx, entries[start:end]); err != nil {
			return fmt.Errorf("publish events %d to %d of %d: %w",
				start+1, end, len(entries), err)
		}
	}
	return nil
}

func (p *EventBridge) entry(e Event) (types.PutEventsRequestEntry, error) {
	if err := e.check(); err != nil {
		return types.PutEventsRequestEntry{}, err
	}
	detail, err := json.Marshal(e)
	if err != nil {
		return types.PutEventsRequestEntry{}, fmt.Errorf("encoding %s: %w", e.ID, err)
	}
	return types.PutEventsRequestEntry{
		EventBusName: aws.String(p.bus),
		Source:       aws.String(Source),
		DetailType:   aws.String(string(e.Type)),
		Detail:       aws.String(string(detail)),
		Time:         aws.Time(e.CreatedAt),
	}, nil
}

func (p *EventBridge) put(ctx context.Context, batch []types.PutEventsRequestEntry) error {
	out, err := p.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: batch})
	if err != nil {
		return fmt.Errorf("put events: %w: %w", fault.ErrUnavailable, err)
	}
	if out.FailedEntryCount > 0 {
		return fmt.Errorf("put events: %d of %d entries failed (first: %s): %w",
			out.FailedEntryCount, len(batch), firstFailure(out.Entries), fault.ErrUnavailable)
	}
	return nil
}

// firstFailure describes the first rejected entry by its error code and
// message, which EventBridge fills with its own words, not the entry's data.
func firstFailure(results []types.PutEventsResultEntry) string {
	for _, r := range results {
		if code := aws.ToString(r.ErrorCode); code != "" {
			return code + ": " + aws.ToString(r.ErrorMessage)
		}
	}
	return "no error code given"
}
