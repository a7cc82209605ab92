// Package tokens is the network-token domain: payment sessions, card
// tokenization, provisioning network tokens at the card networks, single-use
// cryptograms and deletion. It decides; the store keeps, the envelope seals,
// the networks answer.
package tokens

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/networks"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// Lifetimes the published API promises.
const (
	SessionLifetime    = 24 * time.Hour
	CryptogramLifetime = 10 * time.Minute
	// claimLease bounds how long a crashed provisioning call can keep a card
	// from being provisioned again.
	claimLease = 30 * time.Second
)

// Sealer is the envelope encryption the service needs.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, ec envelope.Context) ([]byte, error)
	Open(ctx context.Context, sealed []byte, ec envelope.Context) ([]byte, error)
}

// Networks hands out the provider for a card network.
type Networks interface {
	Provider(n networks.Network) (networks.Provider, error)
}

// Service carries out the API's operations.
type Service struct {
	store    *store.Store
	sealer   Sealer
	networks Networks
	now      func() time.Time
	// queued is called after a write that queued events in the outbox, so a
	// relay in the same process can publish them at once. It may be nil.
	queued func()
}

// Config holds a Service's collaborators.
type Config struct {
	Store    *store.Store
	Sealer   Sealer
	Networks Networks
	Now      func() time.Time
	Queued   func()
}

// New returns a Service.
func New(c Config) *Service {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	return &Service{store: c.Store, sealer: c.Sealer, networks: c.Networks, now: now, queued: c.Queued}
}

// Envelope purposes: each kind of sealed value has its own, so a value
// cannot be opened as another kind.
const (
	purposeCard     = "card"
	purposeTokenPAN = "token_pan"
)

func (s *Service) timestamp() string { return s.now().UTC().Format(time.RFC3339) }

// outbox encodes an event for the outbox.
func (s *Service) outbox(t publish.Type, merchantID string, data any) (store.OutboxEntry, error) {
	ev, err := publish.NewEvent(t, merchantID, data, s.now())
	if err != nil {
		return store.OutboxEntry{}, fmt.Errorf("building event: %w", err)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return store.OutboxEntry{}, fmt.Errorf("encoding event: %w", err)
	}
	return s.store.NewOutboxEntry(ev.ID, body), nil
}

func (s *Service) notifyQueued() {
	if s.queued != nil {
		s.queued()
	}
}

// errNotFound is what a caller sees for anything that is absent or not
// theirs: the same answer, so nobody learns that another merchant's
// resource exists.
func errNotFound(param, what string) error {
	return fault.Param(fault.ErrNotFound, "resource_not_found", param, "No such "+what+".")
}
