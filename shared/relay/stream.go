package relay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/store"
)

// Outbox items as the table's stream shows them.
const (
	outboxKeyPrefix = "OUTBOX#"
	attrPK          = "pk"
	attrEvent       = "event"
	streamInsert    = "INSERT"
)

// streamBatch is how many events one publish call carries: EventBridge
// takes at most ten entries per PutEvents, so a failure blames ten records
// at most.
const streamBatch = 10

// HandleStream publishes the outbox items a DynamoDB stream batch inserted,
// for the relay Lambda function. Each INSERT of an item whose pk begins
// OUTBOX# is decoded from its new image, published (ten to a call) and then
// deleted from the table; every other record is ignored, so REMOVE records
// of deleted or expired entries and changes to other items do no harm.
//
// Records that were not published come back in BatchItemFailures, named by
// sequence number, so that Lambda retries them. Lambda retries a stream from
// the earliest failed record on, so records published after it are
// published again: consumers drop duplicates by event id.
//
// A malformed outbox record (no event attribute, an event that does not
// decode, or one whose id is not the one in its key) is reported as failed
// too, not skipped: its event would otherwise be lost without trace. After
// the function's retry limit Lambda hands it to the on-failure destination,
// and the item stays in the table, where it can be inspected, until its TTL.
//
// An entry published but not deleted is logged and not retried: the event
// went out, and the leftover item expires by TTL.
//
// HandleStream never returns an error: failures are per record.
func (r *Relay) HandleStream(ctx context.Context,
	ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var failed []string
	var pending []store.OutboxEntry
	var pendingSeq []string
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if !r.publishStream(ctx, pending) {
			failed = append(failed, pendingSeq...)
		}
		pending, pendingSeq = pending[:0], pendingSeq[:0]
	}

	for _, rec := range ev.Records {
		entry, ok, err := outboxInsert(rec)
		switch {
		case err != nil:
			r.log.Error("relay: malformed outbox record; reporting it failed",
				"sequenceNumber", rec.Change.SequenceNumber, "error", err.Error())
			failed = append(failed, rec.Change.SequenceNumber)
			continue
		case !ok:
			continue
		}
		pending = append(pending, entry)
		pendingSeq = append(pendingSeq, rec.Change.SequenceNumber)
		if len(pending) == streamBatch {
			flush()
		}
	}
	flush()
	return batchResponse(failed), nil
}

// publishStream publishes and deletes entries, and reports whether they
// were published.
func (r *Relay) publishStream(ctx context.Context, entries []store.OutboxEntry) bool {
	n, err := r.Publish(ctx, entries)
	switch {
	case n == 0 && err != nil:
		r.log.Warn("relay: publishing failed; Lambda will retry",
			"events", len(entries), "first", entries[0].EventID, "error", err.Error())
		return false
	case err != nil:
		r.log.Warn("relay: published but not deleted; the entries expire by TTL",
			"events", len(entries), "error", err.Error())
	}
	return true
}

// outboxInsert reads the outbox entry a stream record inserted. ok is false
// for a record that is not an outbox insert; err reports an outbox insert
// that cannot be published.
func outboxInsert(rec events.DynamoDBEventRecord) (entry store.OutboxEntry, ok bool, err error) {
	pk, isString := stringAttr(rec.Change.Keys, attrPK)
	if !isString {
		pk, isString = stringAttr(rec.Change.NewImage, attrPK)
	}
	if rec.EventName != streamInsert || !isString || !strings.HasPrefix(pk, outboxKeyPrefix) {
		return store.OutboxEntry{}, false, nil
	}

	id := strings.TrimPrefix(pk, outboxKeyPrefix)
	body, isString := stringAttr(rec.Change.NewImage, attrEvent)
	if !isString {
		return store.OutboxEntry{}, true, fmt.Errorf("outbox entry %s: no event in the new image", id)
	}
	event, err := Decode(body)
	if err != nil {
		return store.OutboxEntry{}, true, fmt.Errorf("outbox entry %s: %w", id, err)
	}
	if event.ID != id {
		return store.OutboxEntry{}, true, errors.New("outbox entry " + id + ": event id differs")
	}
	return store.OutboxEntry{PK: pk, EventID: id, Event: body}, true, nil
}

// stringAttr returns a string attribute of an image, and whether there is
// one. It checks the type first: the accessors of events.DynamoDBAttributeValue
// panic on a value of another type.
func stringAttr(image map[string]events.DynamoDBAttributeValue, name string) (string, bool) {
	av, ok := image[name]
	if !ok || av.DataType() != events.DataTypeString {
		return "", false
	}
	return av.String(), true
}

func batchResponse(failed []string) events.DynamoDBEventResponse {
	resp := events.DynamoDBEventResponse{
		BatchItemFailures: make([]events.DynamoDBBatchItemFailure, 0, len(failed)),
	}
	for _, seq := range failed {
		resp.BatchItemFailures = append(resp.BatchItemFailures,
			events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
	}
	return resp
}
