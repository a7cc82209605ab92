// Package relay moves events from the table's outbox to the publisher.
//
// A state change and its event are written in one DynamoDB transaction (the
// event as an outbox entry), so a change is never without its event. The
// relay then publishes each entry and deletes it. Delivery is at least once:
// a crash between publishing and deleting publishes the entry again later,
// and consumers drop duplicates by event id.
package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// batchSize is how many outbox entries one sweep reads at most.
const batchSize = 25

// Relay publishes queued events.
type Relay struct {
	store *store.Store
	pub   publish.Publisher
	log   *slog.Logger
}

// New returns a Relay from the store's outbox to pub.
func New(st *store.Store, pub publish.Publisher, log *slog.Logger) *Relay {
	return &Relay{store: st, pub: pub, log: log}
}

// maxSweepBatches bounds one sweep, so that entries that keep coming back
// (their delete failing) cannot hold a sweep forever.
const maxSweepBatches = 40

// Sweep publishes queued events, oldest first, until the outbox is empty,
// publishing fails, or it has gone through maxSweepBatches batches. It
// returns how many it published. An entry is deleted only after the
// publisher took it.
func (r *Relay) Sweep(ctx context.Context) (int, error) {
	published := 0
	for range maxSweepBatches {
		entries, err := r.store.PendingOutbox(ctx, batchSize)
		if err != nil {
			return published, err
		}
		if len(entries) == 0 {
			return published, nil
		}
		n, err := r.Publish(ctx, entries)
		published += n
		if err != nil {
			return published, err
		}
	}
	return published, nil
}

// Publish sends the given outbox entries and deletes each one sent. An
// entry that does not decode can never be published: it is logged and
// deleted, so that it does not block every later sweep.
func (r *Relay) Publish(ctx context.Context, entries []store.OutboxEntry) (int, error) {
	evs := make([]publish.Event, 0, len(entries))
	sent := make([]store.OutboxEntry, 0, len(entries))
	var errs []error
	for _, e := range entries {
		ev, err := Decode(e.Event)
		if err != nil {
			r.log.Error("dropping an outbox entry that does not decode", "event_id", e.EventID)
			errs = append(errs, r.store.DeleteOutbox(ctx, e.EventID))
			continue
		}
		evs = append(evs, ev)
		sent = append(sent, e)
	}
	if len(evs) > 0 {
		if err := r.pub.Publish(ctx, evs...); err != nil {
			return 0, fmt.Errorf("publishing %d events: %w", len(evs), err)
		}
	}
	for _, e := range sent {
		errs = append(errs, r.store.DeleteOutbox(ctx, e.EventID))
	}
	return len(sent), errors.Join(errs...)
}

// Decode reads an event as the outbox holds it, keeping its data as raw JSON
// so that it is published byte for byte as it was written.
func Decode(body string) (publish.Event, error) {
	var raw json.RawMessage
	ev := publish.Event{Data: &raw}
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		return publish.Event{}, fmt.Errorf("decoding event: %w", err)
	}
	ev.Data = raw
	return ev, nil
}

// Run sweeps whenever wake fires and at every interval, until ctx ends.
// Failures are logged and retried at the next tick.
func (r *Relay) Run(ctx context.Context, wake <-chan struct{}, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-ticker.C:
		}
		if n, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("relay sweep failed; will retry", "published", n, "error", err.Error())
		}
	}
}
