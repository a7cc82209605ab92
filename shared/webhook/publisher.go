package webhook

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/atlas-network-tokens/atlas/shared/publish"
)

// Publisher is a publish.Publisher for running without EventBridge: it
// hands the events to the next publisher, then delivers each one to its
// webhook endpoints in process, as the EventBridge rule and the dispatcher
// function do in AWS.
//
// There is no dead-letter queue in process: an event that could not be
// delivered after the Dispatcher's attempts is logged (ids and statuses
// only) and dropped, and Publish still succeeds, so that the relay does not
// send every other event of the batch again.
type Publisher struct {
	next publish.Publisher
	d    *Dispatcher
	log  *slog.Logger
}

// NewPublisher returns a Publisher that publishes to next (which may be
// nil) and then delivers with d.
func NewPublisher(d *Dispatcher, next publish.Publisher, log *slog.Logger) *Publisher {
	if log == nil {
		log = slog.Default()
	}
	return &Publisher{next: next, d: d, log: log}
}

// Publish publishes the events to the next publisher and then delivers
// them. It fails only when the next publisher fails or ctx ends.
func (p *Publisher) Publish(ctx context.Context, events ...publish.Event) error {
	if p.next != nil {
		if err := p.next.Publish(ctx, events...); err != nil {
			return err
		}
	}
	for _, ev := range events {
		err := p.d.Deliver(ctx, ev)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return fmt.Errorf("delivering webhooks: %w", ctx.Err())
		}
		p.log.Warn("webhook undeliverable; dropped (no dead-letter queue in process)",
			"event_id", ev.ID, "error", err.Error())
	}
	return nil
}
