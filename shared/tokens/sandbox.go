package tokens

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/networks"
	"github.com/atlas-network-tokens/atlas/shared/signature"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// Simulator is what the sandbox networks offer beyond the Provider port:
// issuer-side events on demand, and the secret their notifications are
// signed with. Live networks do not have it.
type Simulator interface {
	Simulate(ctx context.Context, network networks.Network, reference string, ev networks.SimulatedEvent) (networks.Notification, error)
	NotificationSecret(ctx context.Context, network networks.Network) ([]byte, error)
}

// NotificationTolerance is how far a notification's signed timestamp may be
// from our clock.
const NotificationTolerance = 5 * time.Minute

// ErrSandboxOnly marks a sandbox feature asked for outside the sandbox.
var errSandboxOnly = fault.New(fault.ErrNotFound, "route_not_found", "No such route.")

func (s *Service) simulator() (Simulator, error) {
	sim, ok := s.networks.(Simulator)
	if !ok {
		return nil, errSandboxOnly
	}
	return sim, nil
}

// Sandbox reports whether the service runs on the sandbox networks.
func (s *Service) Sandbox() bool {
	_, ok := s.networks.(Simulator)
	return ok
}

// SignedNotification is a network's message as it goes over the wire.
type SignedNotification struct {
	Network   networks.Network
	Body      []byte
	Signature string
}

// Simulate plays an issuer event on a token at its sandbox network and
// returns the signed notification the network sends about it. The caller
// delivers it to the inbound notification endpoint.
func (s *Service) Simulate(ctx context.Context, sess Session, ntID string, ev networks.SimulatedEvent) (SignedNotification, error) {
	sim, err := s.simulator()
	if err != nil {
		return SignedNotification{}, err
	}
	rec, err := s.ownedToken(ctx, sess, ntID)
	if err != nil {
		return SignedNotification{}, err
	}
	network := networks.Network(rec.Network)
	n, err := sim.Simulate(ctx, network, rec.Reference, ev)
	if err != nil {
		return SignedNotification{}, err
	}
	body, err := networks.EncodeNotification(network, n, newID("req_"))
	if err != nil {
		return SignedNotification{}, err
	}
	secret, err := sim.NotificationSecret(ctx, network)
	if err != nil {
		return SignedNotification{}, err
	}
	return SignedNotification{Network: network, Body: body, Signature: signature.Sign(secret, s.now(), body)}, nil
}

// VerifyNotification checks a network's signature on an inbound message.
func (s *Service) VerifyNotification(ctx context.Context, msg SignedNotification) error {
	sim, err := s.simulator()
	if err != nil {
		return fault.New(fault.ErrUnavailable, "notifications_not_configured",
			"Inbound notifications from live networks are not configured.")
	}
	secret, err := sim.NotificationSecret(ctx, msg.Network)
	if err != nil {
		return err
	}
	if err := signature.Verify(secret, msg.Signature, msg.Body, s.now(), NotificationTolerance); err != nil {
		return fault.New(fault.ErrUnauthorized, "invalid_signature",
			"The notification's signature is missing, stale or does not match.")
	}
	return nil
}

// Authorization is the sandbox network's answer to a payment.
type Authorization struct {
	ID             string
	Status         string // approved or declined
	DeclineReason  string
	NetworkTokenID string
	Amount         int64
	Currency       string
	CreatedAt      string
}

// AuthorizationInput is a payment as the sandbox authorizes it.
type AuthorizationInput struct {
	NetworkTokenID string
	Cryptogram     string
	Amount         int64
	Currency       string
}

// Decline reasons of sandbox authorizations.
const (
	DeclineCryptogramExpired = "cryptogram_expired"
	DeclineCryptogramUsed    = "cryptogram_already_used"
	DeclineTokenSuspended    = "token_suspended"
	DeclineTokenDeleted      = "token_deleted"
	DeclineInvalidCryptogram = "invalid_cryptogram"
	authorizationApproved    = "approved"
	authorizationDeclined    = "declined"
	maxAuthorizationAmount   = 99_999_999_99
	maxCryptogramInputLength = 64
	prefixAuthorization      = "auth_"
)

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// Authorize plays the card network's part in a sandbox payment: it checks
// the token's state, verifies the cryptogram from the token's key and ATC,
// and uses it up. Single use is atomic: of any number of concurrent
// authorizations with one cryptogram, exactly one is approved.
func (s *Service) Authorize(ctx context.Context, sess Session, in AuthorizationInput) (Authorization, error) {
	if _, err := s.simulator(); err != nil {
		return Authorization{}, err
	}
	if err := in.validate(); err != nil {
		return Authorization{}, err
	}
	rec, err := s.ownedToken(ctx, sess, in.NetworkTokenID)
	if errors.Is(err, fault.ErrNotFound) {
		return Authorization{}, errNotFound("network_token_id", "network token")
	}
	if err != nil {
		return Authorization{}, err
	}
	auth := Authorization{
		ID: newID(prefixAuthorization), Status: authorizationApproved, NetworkTokenID: rec.ID,
		Amount: in.Amount, Currency: in.Currency, CreatedAt: s.timestamp(),
	}
	reason, err := s.checkCryptogram(ctx, rec, in.Cryptogram, auth.ID)
	if err != nil {
		return Authorization{}, err
	}
	if reason != "" {
		auth.Status, auth.DeclineReason = authorizationDeclined, reason
	}
	return auth, nil
}

// checkCryptogram returns a decline reason, or "" when the cryptogram is
// good and now used up.
func (s *Service) checkCryptogram(ctx context.Context, rec store.NetworkToken, cryptogram, authID string) (string, error) {
	switch rec.Status {
	case store.StatusDeleted:
		return DeclineTokenDeleted, nil
	case store.StatusSuspended:
		return DeclineTokenSuspended, nil
	}
	provider, err := s.networks.Provider(networks.Network(rec.Network))
	if err != nil {
		return "", err
	}
	atc, err := provider.Verify(ctx, rec.Reference, cryptogram)
	var fe *fault.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case networks.CodeInvalidCryptogram:
			return DeclineInvalidCryptogram, nil
		case networks.CodeTokenNotActive:
			// The network suspended the token before its notification
			// reached us.
			return DeclineTokenSuspended, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("verifying at %s: %w", rec.Network, err)
	}
	switch err := s.store.UseCryptogram(ctx, rec.ID, atc, authID); {
	case errors.Is(err, store.ErrCryptogramUsed):
		return DeclineCryptogramUsed, nil
	case errors.Is(err, store.ErrCryptogramExpired):
		return DeclineCryptogramExpired, nil
	case err != nil:
		return "", err
	}
	return "", nil
}

func (in AuthorizationInput) validate() error {
	switch {
	case in.Amount <= 0 || in.Amount > maxAuthorizationAmount:
		return fault.Param(fault.ErrInvalid, "invalid_amount", "amount",
			"amount must be a positive whole number of minor units, at most 9999999999.")
	case !currencyPattern.MatchString(in.Currency):
		return fault.Param(fault.ErrInvalid, "invalid_currency", "currency",
			"currency must be a three-letter ISO 4217 code in capitals, such as USD.")
	case len(in.Cryptogram) > maxCryptogramInputLength:
		return fault.Param(fault.ErrInvalid, "invalid_cryptogram", "cryptogram",
			"cryptogram is longer than any network's cryptogram.")
	}
	return nil
}
