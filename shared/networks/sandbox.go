package networks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/card"
	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// rootKeyLength is the size of the sandbox root key State hands out.
const rootKeyLength = 32

// Sandbox runs the simulated token services of Visa, Mastercard and American
// Express in process, keeping their memory in a State so that every process
// sharing the State sees the same tokens. Its methods are safe for
// concurrent use.
type Sandbox struct {
	state State
	now   func() time.Time

	mu   sync.Mutex
	root []byte // cached after the first successful State.RootKey
}

// NewSandbox returns a Sandbox over state. now is the clock for card expiry
// checks and token expiry dates; nil means time.Now.
func NewSandbox(state State, now func() time.Time) *Sandbox {
	if now == nil {
		now = time.Now
	}
	return &Sandbox{state: state, now: now}
}

// Provider returns the simulator for network n. A network without a
// simulator is fault.ErrRefused network_not_supported.
func (s *Sandbox) Provider(n Network) (Provider, error) {
	sch, ok := schemes[n]
	if !ok {
		return nil, fault.New(fault.ErrRefused, CodeNetworkNotSupported,
			"network tokens are not available for this card network yet")
	}
	return &simulator{sandbox: s, scheme: sch}, nil
}

// rootKey returns the root key, asking State only until it first succeeds.
func (s *Sandbox) rootKey(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root != nil {
		return s.root, nil
	}
	key, err := s.state.RootKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading sandbox root key: %w", err)
	}
	if len(key) != rootKeyLength {
		return nil, fmt.Errorf("sandbox root key has %d bytes, want %d", len(key), rootKeyLength)
	}
	s.root = append([]byte(nil), key...)
	return s.root, nil
}

// simulator is one network's sandbox token service.
type simulator struct {
	sandbox *Sandbox
	scheme  *scheme
}

func (p *simulator) Network() Network { return p.scheme.network }

func (p *simulator) Provision(ctx context.Context, req ProvisionRequest) (Token, error) {
	digits := req.CardPAN.Reveal()
	if card.BrandOf(digits) != p.scheme.brand {
		return Token{}, fault.New(fault.ErrInvalid, CodeCardNetworkMismatch,
			"the card does not belong to this card network")
	}
	if !card.ValidLength(p.scheme.brand, len(digits)) || !card.Luhn(digits) {
		return Token{}, fault.New(fault.ErrInvalid, "invalid_card_number",
			"the card number is not valid")
	}
	switch behaviourOf(digits) {
	case BehaviourDecline:
		return Token{}, errDeclined()
	case BehaviourRequiresAuth:
		return Token{}, errRequiresAuth()
	}
	now := p.sandbox.now().UTC()
	if cardExpired(req.CardExpMonth, req.CardExpYear, now) {
		return Token{}, fault.New(fault.ErrRefused, CodeCardExpired,
			"the card network declined: the card has expired")
	}

	root, err := p.sandbox.rootKey(ctx)
	if err != nil {
		return Token{}, err
	}
	reference, err := p.scheme.newReference()
	if err != nil {
		return Token{}, err
	}
	month, year := tokenExpiry(root, p.scheme, reference, now)
	acct := Account{
		Network:     p.scheme.network,
		Reference:   reference,
		MerchantID:  req.MerchantID,
		Status:      StatusActive,
		TokenBIN:    p.scheme.tokenBIN(req.CardPAN.BIN()),
		Generation:  1,
		ExpiryMonth: month,
		ExpiryYear:  year,
		PAR:         par(root, p.scheme, req.CardPAN),
		CardLast4:   req.CardPAN.Last4(),
	}
	if err := p.sandbox.state.CreateAccount(ctx, acct); err != nil {
		return Token{}, fmt.Errorf("storing %s sandbox token: %w", p.scheme.network, err)
	}
	return p.token(root, acct), nil
}

// cardExpired reports whether a card's expiry month ended before now's month.
// A month outside 1 to 12 counts as expired: a network would refuse it.
func cardExpired(month, year int, now time.Time) bool {
	if month < 1 || month > 12 {
		return true
	}
	return year < now.Year() || (year == now.Year() && month < int(now.Month()))
}

func (p *simulator) token(root []byte, acct Account) Token {
	return Token{
		Network:     acct.Network,
		Reference:   acct.Reference,
		TokenPAN:    tokenPAN(root, p.scheme, acct),
		ExpiryMonth: acct.ExpiryMonth,
		ExpiryYear:  acct.ExpiryYear,
		PAR:         acct.PAR,
		Status:      acct.Status,
		CardLast4:   acct.CardLast4,
	}
}

func (p *simulator) Token(ctx context.Context, reference string) (Token, error) {
	acct, err := p.account(ctx, reference)
	if err != nil {
		return Token{}, err
	}
	root, err := p.sandbox.rootKey(ctx)
	if err != nil {
		return Token{}, err
	}
	return p.token(root, acct), nil
}

func (p *simulator) Cryptogram(ctx context.Context, reference string) (Cryptogram, error) {
	if !plausibleReference(reference) {
		return Cryptogram{}, errNotFound()
	}
	root, err := p.sandbox.rootKey(ctx)
	if err != nil {
		return Cryptogram{}, err
	}
	atc, err := p.sandbox.state.NextATC(ctx, p.scheme.network, reference)
	if err != nil {
		return Cryptogram{}, p.stateError("counting cryptogram", err, errNotActive())
	}
	return newCryptogram(root, p.scheme, reference, atc), nil
}

func (p *simulator) Delete(ctx context.Context, reference string) error {
	from := []Status{StatusActive, StatusSuspended, StatusDeleted}
	return p.setStatus(ctx, reference, from, StatusDeleted)
}

func (p *simulator) Suspend(ctx context.Context, reference string) error {
	from := []Status{StatusActive, StatusSuspended}
	return p.setStatus(ctx, reference, from, StatusSuspended)
}

func (p *simulator) Resume(ctx context.Context, reference string) error {
	from := []Status{StatusSuspended, StatusActive}
	return p.setStatus(ctx, reference, from, StatusActive)
}

// setStatus moves a token between states. Every transition that lists the
// target among its sources is idempotent; the one refused transition left is
// out of deletion, hence token_deleted.
func (p *simulator) setStatus(ctx context.Context, reference string,
	from []Status, to Status) error {
	if !plausibleReference(reference) {
		return errNotFound()
	}
	err := p.sandbox.state.SetStatus(ctx, p.scheme.network, reference, from, to)
	if err != nil {
		return p.stateError("setting token status", err, errDeleted())
	}
	return nil
}

func (p *simulator) Verify(ctx context.Context, reference, cryptogram string) (uint32, error) {
	acct, err := p.account(ctx, reference)
	if err != nil {
		return 0, err
	}
	if acct.Status != StatusActive {
		return 0, errNotActive()
	}
	root, err := p.sandbox.rootKey(ctx)
	if err != nil {
		return 0, err
	}
	atc, ok := checkCryptogram(root, p.scheme, reference, cryptogram)
	// An ATC the network never issued cannot be genuine, whatever its MAC.
	if !ok || atc == 0 || atc > acct.ATC {
		return 0, errInvalidCryptogram()
	}
	return atc, nil
}

func (p *simulator) account(ctx context.Context, reference string) (Account, error) {
	if !plausibleReference(reference) {
		return Account{}, errNotFound()
	}
	acct, err := p.sandbox.state.Account(ctx, p.scheme.network, reference)
	if err != nil {
		return Account{}, p.stateError("reading token", err, nil)
	}
	return acct, nil
}

// stateError turns a State failure into the error callers see: not found,
// the given conflict error, or the State's own error wrapped in context.
func (p *simulator) stateError(doing string, err error, conflict error) error {
	switch {
	case errors.Is(err, fault.ErrNotFound):
		return errNotFound()
	case conflict != nil && errors.Is(err, fault.ErrConflict):
		return conflict
	}
	return fmt.Errorf("%s sandbox %s: %w", p.scheme.network, doing, err)
}

// plausibleReference screens out references no simulator ever issues, so
// that they cost no State call.
func plausibleReference(reference string) bool {
	return reference != "" && len(reference) <= maxReferenceLength
}
