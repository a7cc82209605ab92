package networks

import (
	"context"
	"errors"
	"fmt"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// SimulatedEvent is an issuer-side change the sandbox can play out.
type SimulatedEvent string

// The events the sandbox simulates.
const (
	SimCardReissued      SimulatedEvent = "card_reissued"
	SimCardNumberChanged SimulatedEvent = "card_number_changed"
	SimIssuerSuspended   SimulatedEvent = "issuer_suspended"
	SimIssuerResumed     SimulatedEvent = "issuer_resumed"
	SimAccountClosed     SimulatedEvent = "account_closed"
)

// SimulatedEvents lists every event Simulate takes.
var SimulatedEvents = []SimulatedEvent{
	SimCardReissued, SimCardNumberChanged, SimIssuerSuspended, SimIssuerResumed, SimAccountClosed,
}

// reissueYears is how far a reissued card's token expiry moves on;
// reissuedCardYears is how far ahead of now the new card expires.
const (
	reissueYears      = 3
	reissuedCardYears = 5
)

// Simulate plays an issuer's change on a sandbox token: the network's own
// record changes first, as it would at a real network, and the result is
// the notification the network then sends to the token requestor.
func (s *Sandbox) Simulate(ctx context.Context, network Network, reference string,
	ev SimulatedEvent) (Notification, error) {
	p, err := s.Provider(network)
	if err != nil {
		return Notification{}, err
	}
	sim := p.(*simulator)
	prev, err := sim.account(ctx, reference)
	if err != nil {
		return Notification{}, err
	}
	if prev.Status == StatusDeleted {
		return Notification{}, errDeleted()
	}
	next, n, err := sim.apply(prev, ev)
	if err != nil {
		return Notification{}, err
	}
	if err := s.state.ReplaceAccount(ctx, prev, next); err != nil {
		if errors.Is(err, fault.ErrConflict) {
			return Notification{}, fault.New(fault.ErrConflict, "concurrent_update",
				"the sandbox token changed while the event was simulated; retry")
		}
		return Notification{}, sim.stateError("simulating "+string(ev), err, nil)
	}

	root, err := s.rootKey(ctx)
	if err != nil {
		return Notification{}, err
	}
	tok := sim.token(root, next)
	n.Reference, n.Status, n.StatusAt = reference, next.Status, s.now().UTC()
	n.TokenLast4, n.TokenExpMonth, n.TokenExpYear = tok.TokenPAN.Last4(), next.ExpiryMonth, next.ExpiryYear
	n.CardLast4 = next.CardLast4
	return n, nil
}

// apply computes an event's effect on an account and the reason and card
// expiry the notification reports.
func (p *simulator) apply(prev Account, ev SimulatedEvent) (Account, Notification, error) {
	next := prev
	var n Notification
	now := p.sandbox.now().UTC()
	switch ev {
	case SimCardReissued:
		next.ExpiryYear += reissueYears
		n.Reason = ReasonExpiryUpdated
		n.CardExpMonth, n.CardExpYear = int(now.Month()), now.Year()+reissuedCardYears
	case SimCardNumberChanged:
		next.Generation++
		next.CardLast4 = newCardLast4(prev)
		n.Reason = ReasonRedigitized
	case SimIssuerSuspended:
		if prev.Status != StatusActive {
			return Account{}, Notification{}, errTransition("only an active token can be suspended")
		}
		next.Status, n.Reason, n.SuspendedBy = StatusSuspended, ReasonStatusUpdate, SuspenderIssuer
	case SimIssuerResumed:
		if prev.Status != StatusSuspended {
			return Account{}, Notification{}, errTransition("only a suspended token can be resumed")
		}
		next.Status, n.Reason = StatusActive, ReasonStatusUpdate
	case SimAccountClosed:
		next.Status, n.Reason = StatusDeleted, ReasonAccountClosed
	default:
		return Account{}, Notification{}, fault.Param(fault.ErrInvalid, "invalid_event", "event",
			fmt.Sprintf("event must be one of %v", SimulatedEvents))
	}
	return next, n, nil
}

func errTransition(message string) error {
	return fault.New(fault.ErrConflict, "invalid_state_transition", message)
}

// newCardLast4 picks the last four digits of a replacement card number: a
// sandbox has no real card, so it only has to differ from the old ones.
func newCardLast4(prev Account) string {
	seed := uint32(prev.Generation)*7919 + uint32(len(prev.Reference))
	for _, c := range prev.CardLast4 + prev.Reference {
		seed = seed*31 + uint32(c)
	}
	last4 := fmt.Sprintf("%04d", seed%10000)
	if last4 == prev.CardLast4 {
		last4 = fmt.Sprintf("%04d", (seed+1)%10000)
	}
	return last4
}

// NotificationSecret is the key a sandbox network signs its notifications
// with. It is derived from the sandbox root key, so every function of a
// deployment agrees on it without another secret to configure. Live
// networks will each have a secret of their own, from configuration.
func (s *Sandbox) NotificationSecret(ctx context.Context, network Network) ([]byte, error) {
	root, err := s.rootKey(ctx)
	if err != nil {
		return nil, err
	}
	return keyedHash(root, labelNotify, []byte(network)), nil
}
