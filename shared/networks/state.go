package networks

import "context"

// Account is what a sandbox network remembers about one token. It holds no
// PAN: the token PAN is derived again from the root key, the reference, the
// token BIN and the generation whenever it is needed, and the card is known
// only by its last four digits and its PAR (a keyed hash).
type Account struct {
	Network   Network
	Reference string

	// MerchantID is the merchant the token was provisioned for.
	MerchantID string

	Status Status

	// TokenBIN is the six-digit token BIN range the token PAN was drawn from.
	TokenBIN string

	// Generation counts the token PANs this token has had, from 1. A network
	// that replaces the token PAN (MDES REDIGITIZATION_COMPLETE) raises it.
	Generation uint32

	ExpiryMonth int
	ExpiryYear  int

	PAR       string
	CardLast4 string

	// ATC is the application transaction counter: the number of cryptograms
	// issued so far, 0 for a new token.
	ATC uint32
}

// State keeps the sandbox networks' memory outside the process, so every
// Lambda function sees the same tokens. The store package implements it on
// DynamoDB with conditional writes; tests use an in-memory map.
//
// Errors are plain kinds, not codes: an implementation returns an error for
// which errors.Is(err, fault.ErrNotFound) or errors.Is(err, fault.ErrConflict)
// holds where a method says so, and the sandbox turns it into the error its
// callers see. Any other error is an infrastructure failure and is passed on
// wrapped.
//
// Every method is safe for concurrent use by many processes at once.
type State interface {
	// RootKey returns the sandbox's 32-byte root key. The first call anywhere
	// creates it at random (a conditional create, so two racing first calls
	// agree on one key) and stores it sealed; every later call, in any
	// process, returns the same bytes. The caller must not modify them.
	RootKey(ctx context.Context) ([]byte, error)

	// CreateAccount stores a new account. It fails with fault.ErrConflict
	// when an account with the same network and reference exists, and never
	// overwrites one.
	CreateAccount(ctx context.Context, acct Account) error

	// Account reads an account. A missing one is fault.ErrNotFound.
	Account(ctx context.Context, network Network, reference string) (Account, error)

	// NextATC adds one to the account's ATC and returns the new value, in one
	// atomic step: two concurrent calls never get the same value. It succeeds
	// only while the status is StatusActive; otherwise it changes nothing
	// and fails with fault.ErrConflict. A missing account is
	// fault.ErrNotFound. At the largest uint32 it fails with
	// fault.ErrConflict rather than wrap around.
	NextATC(ctx context.Context, network Network, reference string) (uint32, error)

	// SetStatus changes the account's status to `to`, in one atomic
	// conditional step, if its current status is one of `from`; otherwise it
	// changes nothing and fails with fault.ErrConflict. A missing account is
	// fault.ErrNotFound. Setting a status to itself (when it is listed in
	// from) succeeds.
	SetStatus(ctx context.Context, network Network, reference string, from []Status, to Status) error

	// ReplaceAccount writes next's Status, Generation, ExpiryMonth,
	// ExpiryYear and CardLast4 over an account, in one conditional step, if
	// those fields still hold prev's values; otherwise it changes nothing and
	// fails with fault.ErrConflict. It never touches the ATC, so it does not
	// race with NextATC. A missing account is fault.ErrNotFound.
	ReplaceAccount(ctx context.Context, prev, next Account) error
}
