// Package publish tells the outside world what happened to a network token.
// An Event is built once with NewEvent and handed to a Publisher: EventBridge
// in AWS, JSON lines on a writer in local development.
//
// Events carry no PAN, cryptogram, data key or secret. The caller builds the
// data from fields that may be shown (ids, status, last four digits, expiry);
// secret.PAN and secret.Value encode to their redacted form if one slips in.
package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Type names what happened. Use the constants; never spell a type inline.
type Type string

// The lifecycle events of a network token.
const (
	NetworkTokenCreated   Type = "network_token.created"
	NetworkTokenUpdated   Type = "network_token.updated"
	NetworkTokenSuspended Type = "network_token.suspended"
	NetworkTokenResumed   Type = "network_token.resumed"
	NetworkTokenDeleted   Type = "network_token.deleted"
)

// Known reports whether t is one of the types above.
func (t Type) Known() bool {
	switch t {
	case NetworkTokenCreated, NetworkTokenUpdated, NetworkTokenSuspended,
		NetworkTokenResumed, NetworkTokenDeleted:
		return true
	}
	return false
}

// Event is one thing that happened, as consumers receive it.
//
// MerchantID is part of the JSON: the webhook sender downstream of the bus
// needs it to know whose endpoint to call, and it is no secret.
// Delivery is at least once; consumers drop duplicates by ID.
type Event struct {
	ID         string    `json:"id"`
	Type       Type      `json:"type"`
	CreatedAt  time.Time `json:"createdAt"`
	MerchantID string    `json:"merchantId"`
	Data       any       `json:"data"`
}

// idRandomBytes is the randomness in an event id: 128 bits.
const idRandomBytes = 16

// NewEvent returns an event of type t for a merchant, with a fresh random id
// ("evt_" and 32 hex digits) and now as its time, in UTC to the second.
// It fails when t is unknown, merchantID or now is empty, or data is nil or
// cannot be encoded as JSON.
func NewEvent(t Type, merchantID string, data any, now time.Time) (Event, error) {
	switch {
	case !t.Known():
		return Event{}, fmt.Errorf("new event: unknown type %q", t)
	case merchantID == "":
		return Event{}, errors.New("new event: no merchant id")
	case now.IsZero():
		return Event{}, errors.New("new event: no time")
	case data == nil:
		return Event{}, errors.New("new event: no data")
	}
	if _, err := json.Marshal(data); err != nil {
		return Event{}, fmt.Errorf("new event: encoding data: %w", err)
	}

	id, err := newID()
	if err != nil {
		return Event{}, fmt.Errorf("new event: %w", err)
	}
	return Event{
		ID:         id,
		Type:       t,
		CreatedAt:  now.UTC().Truncate(time.Second),
		MerchantID: merchantID,
		Data:       data,
	}, nil
}

func newID() (string, error) {
	var b [idRandomBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("event id: %w", err)
	}
	return "evt_" + hex.EncodeToString(b[:]), nil
}

// check reports why an event was not made by NewEvent, or nil.
func (e Event) check() error {
	switch {
	case e.ID == "":
		return errors.New("event has no id")
	case !e.Type.Known():
		return fmt.Errorf("event %s: unknown type %q", e.ID, e.Type)
	case e.MerchantID == "":
		return fmt.Errorf("event %s: no merchant id", e.ID)
	}
	return nil
}

// Publisher sends events on. Publish sends all of them or returns an error;
// after an error some may have been sent, so a retry can deliver an event
// twice (consumers drop duplicates by ID).
type Publisher interface {
	Publish(ctx context.Context, events ...Event) error
}
