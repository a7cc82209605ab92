package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/networks"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// Who suspended a token, as the API and events name them.
const (
	SuspendedByMerchant = "merchant"
	SuspendedByIssuer   = "issuer"
	SuspendedByNetwork  = "network"
)

// statusEventData is the data of suspended, resumed and deleted events.
type statusEventData struct {
	NetworkTokenID string `json:"networkTokenId"`
	Network        string `json:"network"`
	Status         string `json:"status"`
	SuspendedBy    string `json:"suspendedBy,omitempty"`
	Reason         string `json:"reason"`
}

// updatedEventData is the data of network_token.updated: what changed, with
// the previous and new token expiry in the published "MM/YYYY" form.
type updatedEventData struct {
	NetworkTokenID string   `json:"networkTokenId"`
	Network        string   `json:"network"`
	Changes        []string `json:"changes"`
	PreviousExpiry string   `json:"previousExpiry"`
	NewExpiry      string   `json:"newExpiry"`
	TokenLast4     string   `json:"tokenLast4"`
	CardLast4      string   `json:"cardLast4"`
	CardExpiry     string   `json:"cardExpiry"`
	Reason         string   `json:"reason"`
}

// What network_token.updated can report as changed.
const (
	ChangeTokenExpiry = "token_expiry"
	ChangeTokenPAN    = "token_pan"
	ChangeCardLast4   = "card_last4"
	ChangeCardExpiry  = "card_expiry"
)

// Reasons for merchant-initiated changes.
const (
	reasonMerchantRequest = "MERCHANT_REQUEST"
)

func expiry(month, year int) string { return fmt.Sprintf("%02d/%04d", month, year) }

// SuspendNetworkToken suspends an active token at its network for the
// merchant. Only an active token can be suspended.
func (s *Service) SuspendNetworkToken(ctx context.Context, sess Session, ntID string) (NetworkToken, error) {
	rec, err := s.ownedToken(ctx, sess, ntID)
	if err != nil {
		return NetworkToken{}, err
	}
	if err := transitionAllowed(rec, store.StatusActive, "suspended"); err != nil {
		return NetworkToken{}, err
	}
	provider, err := s.networks.Provider(networks.Network(rec.Network))
	if err != nil {
		return NetworkToken{}, err
	}
	if err := provider.Suspend(ctx, rec.Reference); err != nil {
		return NetworkToken{}, fmt.Errorf("suspending at %s: %w", rec.Network, err)
	}
	next := rec
	next.Status, next.SuspendedBy = store.StatusSuspended, SuspendedByMerchant
	return s.commitStatus(ctx, rec, next, publish.NetworkTokenSuspended, reasonMerchantRequest)
}

// ResumeNetworkToken resumes a token the merchant suspended. A token the
// issuer suspended can only be resumed by the issuer.
func (s *Service) ResumeNetworkToken(ctx context.Context, sess Session, ntID string) (NetworkToken, error) {
	rec, err := s.ownedToken(ctx, sess, ntID)
	if err != nil {
		return NetworkToken{}, err
	}
	if err := transitionAllowed(rec, store.StatusSuspended, "resumed"); err != nil {
		return NetworkToken{}, err
	}
	if rec.SuspendedBy != SuspendedByMerchant {
		return NetworkToken{}, fault.New(fault.ErrConflict, "suspended_by_issuer",
			"The card issuer suspended this token; only the issuer can resume it.")
	}
	provider, err := s.networks.Provider(networks.Network(rec.Network))
	if err != nil {
		return NetworkToken{}, err
	}
	if err := provider.Resume(ctx, rec.Reference); err != nil {
		return NetworkToken{}, fmt.Errorf("resuming at %s: %w", rec.Network, err)
	}
	next := rec
	next.Status, next.SuspendedBy = store.StatusActive, ""
	return s.commitStatus(ctx, rec, next, publish.NetworkTokenResumed, reasonMerchantRequest)
}

// transitionAllowed refuses a transition out of any status but from.
func transitionAllowed(rec store.NetworkToken, from, to string) error {
	switch {
	case rec.Status == store.StatusDeleted:
		return fault.New(fault.ErrConflict, "token_deleted",
			"The network token is deleted; a deleted token never changes again.")
	case rec.Status != from:
		return fault.New(fault.ErrConflict, "invalid_state_transition",
			"A "+rec.Status+" network token cannot be "+to+"; only a "+from+" one can.")
	}
	return nil
}

// commitStatus writes a status change and its event in one transaction.
func (s *Service) commitStatus(ctx context.Context, prev, next store.NetworkToken,
	t publish.Type, reason string) (NetworkToken, error) {
	next.Version, next.UpdatedAt = prev.Version+1, s.timestamp()
	event, err := s.outbox(t, next.MerchantID, statusData(next, reason))
	if err != nil {
		return NetworkToken{}, err
	}
	if err := s.store.UpdateNetworkToken(ctx, next, prev.Version, event); err != nil {
		if errors.Is(err, fault.ErrConflict) {
			return NetworkToken{}, fault.New(fault.ErrConflict, "concurrent_update",
				"The network token was changed by another request; retry.")
		}
		return NetworkToken{}, err
	}
	s.notifyQueued()
	return view(next), nil
}

func statusData(rec store.NetworkToken, reason string) statusEventData {
	return statusEventData{
		NetworkTokenID: rec.ID, Network: rec.Network, Status: rec.Status,
		SuspendedBy: rec.SuspendedBy, Reason: reason,
	}
}

// NotificationOutcome is what became of one token update from a network.
type NotificationOutcome struct {
	Reference string `json:"reference"`
	Outcome   string `json:"outcome"`
}

// Notification outcomes.
const (
	OutcomeApplied      = "applied"
	OutcomeUnchanged    = "unchanged"
	OutcomeStale        = "ignored_stale"
	OutcomeUnknownToken = "unknown_token"
	OutcomeTokenDeleted = "ignored_deleted"
)

// ApplyNotifications applies a network's token updates. An update older
// than one already applied (by the network's status timestamp) is ignored,
// so duplicates and late deliveries never move a token backwards; an update
// for a token we do not know is acknowledged and reported, not retried.
func (s *Service) ApplyNotifications(ctx context.Context, network networks.Network,
	ns []networks.Notification) ([]NotificationOutcome, error) {
	out := make([]NotificationOutcome, 0, len(ns))
	for _, n := range ns {
		outcome, err := s.applyWithRetry(ctx, network, n)
		if err != nil {
			return nil, err
		}
		out = append(out, NotificationOutcome{Reference: n.Reference, Outcome: outcome})
	}
	return out, nil
}

func (s *Service) applyWithRetry(ctx context.Context, network networks.Network,
	n networks.Notification) (string, error) {
	const attempts = 5
	for range attempts {
		outcome, err := s.applyNotification(ctx, network, n)
		if !errors.Is(err, fault.ErrConflict) {
			return outcome, err
		}
	}
	return "", fault.New(fault.ErrConflict, "concurrent_update",
		"The token kept changing while the notification was applied; deliver it again.")
}

func (s *Service) applyNotification(ctx context.Context, network networks.Network, n networks.Notification) (string, error) {
	rec, err := s.store.NetworkTokenByReference(ctx, string(network), n.Reference)
	if isNotFound(err) {
		return OutcomeUnknownToken, nil
	}
	if err != nil {
		return "", err
	}
	statusAt := n.StatusAt.UTC().Format(time.RFC3339Nano)
	switch {
	case rec.Status == store.StatusDeleted:
		return OutcomeTokenDeleted, nil
	case rec.NetworkStatusAt != "" && !laterThan(n.StatusAt, rec.NetworkStatusAt):
		return OutcomeStale, nil
	}

	next, changes, err := s.merge(ctx, network, rec, n)
	if err != nil {
		return "", err
	}
	next.NetworkStatusAt = statusAt
	events, err := s.notificationEvents(rec, next, changes, n.Reason)
	if err != nil {
		return "", err
	}
	next.Version, next.UpdatedAt = rec.Version+1, s.timestamp()
	if err := s.store.UpdateNetworkToken(ctx, next, rec.Version, events...); err != nil {
		return "", err
	}
	if len(events) == 0 {
		return OutcomeUnchanged, nil
	}
	s.notifyQueued()
	return OutcomeApplied, nil
}

func laterThan(t time.Time, stored string) bool {
	prev, err := time.Parse(time.RFC3339Nano, stored)
	return err != nil || t.After(prev)
}

// merge applies a notification's fields to a token and lists what changed.
func (s *Service) merge(ctx context.Context, network networks.Network, rec store.NetworkToken, n networks.Notification) (store.NetworkToken, []string, error) {
	next := rec
	var changes []string
	if n.TokenExpMonth != 0 && (n.TokenExpMonth != rec.TokenExpMonth || n.TokenExpYear != rec.TokenExpYear) {
		next.TokenExpMonth, next.TokenExpYear = n.TokenExpMonth, n.TokenExpYear
		changes = append(changes, ChangeTokenExpiry)
	}
	if n.TokenLast4 != "" && n.TokenLast4 != rec.TokenLast4 || n.Reason == networks.ReasonRedigitized {
		sealed, last4, err := s.refetchTokenPAN(ctx, network, rec)
		if err != nil {
			return store.NetworkToken{}, nil, err
		}
		if last4 != rec.TokenLast4 || n.Reason == networks.ReasonRedigitized {
			next.SealedTokenPAN, next.TokenLast4 = sealed, last4
			changes = append(changes, ChangeTokenPAN)
		}
	}
	if n.CardLast4 != "" && n.CardLast4 != rec.CardLast4 {
		next.CardLast4 = n.CardLast4
		changes = append(changes, ChangeCardLast4)
	}
	if n.CardExpMonth != 0 && (n.CardExpMonth != rec.CardExpMonth || n.CardExpYear != rec.CardExpYear) {
		next.CardExpMonth, next.CardExpYear = n.CardExpMonth, n.CardExpYear
		changes = append(changes, ChangeCardExpiry)
	}
	next.Status = string(n.Status)
	switch {
	case n.Status == networks.StatusSuspended && rec.Status != store.StatusSuspended:
		next.SuspendedBy = suspender(n.SuspendedBy)
	case n.Status != networks.StatusSuspended:
		next.SuspendedBy = ""
	}
	return next, changes, nil
}

func suspender(networkName string) string {
	switch networkName {
	case networks.SuspenderTokenRequestor:
		return SuspendedByMerchant
	case networks.SuspenderIssuer, networks.SuspenderCardholder:
		return SuspendedByIssuer
	default:
		return SuspendedByNetwork
	}
}

// refetchTokenPAN asks the network for the token's current PAN, as MDES
// getToken does after REDIGITIZATION_COMPLETE, and seals it.
func (s *Service) refetchTokenPAN(ctx context.Context, network networks.Network, rec store.NetworkToken) ([]byte, string, error) {
	provider, err := s.networks.Provider(network)
	if err != nil {
		return nil, "", err
	}
	tok, err := provider.Token(ctx, rec.Reference)
	if err != nil {
		return nil, "", fmt.Errorf("fetching token from %s: %w", network, err)
	}
	sealed, err := s.sealer.Seal(ctx, []byte(tok.TokenPAN.Reveal()), tokenPANContext(rec.MerchantID, rec.ID))
	if err != nil {
		return nil, "", fmt.Errorf("sealing token PAN: %w", err)
	}
	return sealed, tok.TokenPAN.Last4(), nil
}

// notificationEvents are the events a notification's effect calls for: one
// updated event for changed details, one for a changed status.
func (s *Service) notificationEvents(prev, next store.NetworkToken, changes []string, reason string) ([]store.OutboxEntry, error) {
	var events []store.OutboxEntry
	if len(changes) > 0 {
		e, err := s.outbox(publish.NetworkTokenUpdated, next.MerchantID, updatedEventData{
			NetworkTokenID: next.ID, Network: next.Network, Changes: changes,
			PreviousExpiry: expiry(prev.TokenExpMonth, prev.TokenExpYear),
			NewExpiry:      expiry(next.TokenExpMonth, next.TokenExpYear),
			TokenLast4:     next.TokenLast4, CardLast4: next.CardLast4,
			CardExpiry: expiry(next.CardExpMonth, next.CardExpYear), Reason: reason,
		})
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	var t publish.Type
	switch {
	case prev.Status == next.Status:
		return events, nil
	case next.Status == store.StatusSuspended:
		t = publish.NetworkTokenSuspended
	case next.Status == store.StatusActive:
		t = publish.NetworkTokenResumed
	case next.Status == store.StatusDeleted:
		t = publish.NetworkTokenDeleted
	}
	e, err := s.outbox(t, next.MerchantID, statusData(next, reason))
	if err != nil {
		return nil, err
	}
	return append(events, e), nil
}
