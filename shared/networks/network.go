package networks

import (
	"context"

	"github.com/atlas-network-tokens/atlas/shared/card"
	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/secret"
)

// Network is a card network that issues network tokens, as named in the
// public API.
type Network string

// Networks with a token service this package speaks to.
const (
	Visa       Network = "visa"       // Visa Token Service (VTS)
	Mastercard Network = "mastercard" // Mastercard Digital Enablement Service (MDES)
	Amex       Network = "amex"       // American Express Token Service (AETS)
)

// ForBrand returns the network that tokenizes cards of brand b. Discover and
// unknown brands have no token service here yet: the error is a
// *fault.Error of kind fault.ErrRefused, code network_not_supported, param
// token_id (the card token the caller asked to provision).
func ForBrand(b card.Brand) (Network, error) {
	switch b {
	case card.Visa:
		return Visa, nil
	case card.Mastercard:
		return Mastercard, nil
	case card.Amex:
		return Amex, nil
	}
	return "", fault.Param(fault.ErrRefused, "network_not_supported", "token_id",
		"network tokens are not available for this card brand yet")
}

// Status is where a token stands in its lifecycle.
type Status string

// Token states. A suspended token can be resumed; a deleted one never comes
// back.
const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
	StatusDeleted   Status = "deleted"
)

// ProvisionRequest asks a network for a token for one merchant's card. The
// sandbox ignores CardholderName; real networks use it in their risk checks.
type ProvisionRequest struct {
	MerchantID     string
	CardPAN        secret.PAN
	CardExpMonth   int
	CardExpYear    int
	CardholderName string
}

// Token is a network token as the network describes it.
type Token struct {
	Network Network

	// Reference is the network's own identifier for the token (VTS
	// vProvisionedTokenID, MDES tokenUniqueReference). Key every record on
	// it: the token PAN and its expiry may change, the reference does not.
	Reference string

	// TokenPAN is the token's number. It comes from a token BIN range,
	// never the card's BIN, and passes the Luhn check.
	TokenPAN secret.PAN

	// ExpiryMonth and ExpiryYear are the token's expiry, which the network
	// sets independently of the card's.
	ExpiryMonth int
	ExpiryYear  int

	// PAR is the 29-character Payment Account Reference: the same for every
	// token of one card account, and revealing nothing of the PAN.
	PAR string

	Status    Status
	CardLast4 string
}

// Cryptogram is a single-use value for one customer-initiated payment with a
// token.
type Cryptogram struct {
	// Value is the cryptogram as the acquirer takes it: 28 Base64
	// characters for every network here.
	Value secret.Value

	// Type names the format: TypeTAVV, TypeUCAF or TypeAmexBlockA.
	Type string

	// ECI is the electronic commerce indicator to send with this cryptogram.
	// Each scheme has its own values; see the package documentation.
	ECI string

	// ATC is the application transaction counter the value was computed
	// from: it rises by one with every cryptogram of a token.
	ATC uint32
}

// Provider is one network's token service. The sandbox simulators implement
// it now; real VTS, MDES and AETS adapters implement it later.
//
// Errors are *fault.Error values. No error text holds a PAN or a cryptogram.
type Provider interface {
	// Network names the network this provider speaks for.
	Network() Network

	// Provision asks the network for a new token for the card. A decline is
	// fault.ErrRefused network_declined; a card the issuer wants to step up is
	// fault.ErrRefused requires_additional_authentication; a card of another
	// network is fault.ErrInvalid card_network_mismatch.
	Provision(ctx context.Context, req ProvisionRequest) (Token, error)

	// Token reads a token by its reference (MDES getToken, VTS GET
	// provisionedTokens). An unknown reference is fault.ErrNotFound.
	Token(ctx context.Context, reference string) (Token, error)

	// Cryptogram returns a new cryptogram for an active token. A token that
	// is suspended or deleted gives fault.ErrConflict token_not_active.
	Cryptogram(ctx context.Context, reference string) (Cryptogram, error)

	// Delete deletes the token at the network, permanently. Deleting a
	// deleted token succeeds.
	Delete(ctx context.Context, reference string) error

	// Suspend stops an active token from being used until Resume. Suspending
	// a suspended token succeeds; a deleted one gives fault.ErrConflict.
	Suspend(ctx context.Context, reference string) error

	// Resume makes a suspended token active again. Resuming an active token
	// succeeds; a deleted one gives fault.ErrConflict.
	Resume(ctx context.Context, reference string) error

	// Verify checks a cryptogram the way the network checks it in an
	// authorization, and returns the ATC it carries. It does not know which
	// cryptograms were used: spotting a replayed ATC is the caller's job. A
	// value that fails is fault.ErrRefused invalid_cryptogram.
	Verify(ctx context.Context, reference string, cryptogram string) (atc uint32, err error)
}

// Error codes the providers return, for callers that branch on them.
const (
	CodeNetworkNotSupported = "network_not_supported"
	CodeNetworkDeclined     = "network_declined"
	CodeRequiresAuth        = "requires_additional_authentication"
	CodeCardNetworkMismatch = "card_network_mismatch"
	CodeCardExpired         = "card_expired"
	CodeTokenNotFound       = "token_not_found"
	CodeTokenNotActive      = "token_not_active"
	CodeTokenDeleted        = "token_deleted"
	CodeInvalidCryptogram   = "invalid_cryptogram"
)

func errDeclined() error {
	return fault.New(fault.ErrRefused, CodeNetworkDeclined,
		"the card network declined to create a token for this card")
}

func errRequiresAuth() error {
	return fault.New(fault.ErrRefused, CodeRequiresAuth,
		"the card issuer requires additional cardholder authentication before it "+
			"creates a token; step-up authentication is not supported through this API yet")
}

func errNotFound() error {
	return fault.New(fault.ErrNotFound, CodeTokenNotFound, "the network has no such token")
}

func errNotActive() error {
	return fault.New(fault.ErrConflict, CodeTokenNotActive, "the token is not active")
}

func errDeleted() error {
	return fault.New(fault.ErrConflict, CodeTokenDeleted, "the token has been deleted")
}

func errInvalidCryptogram() error {
	return fault.New(fault.ErrRefused, CodeInvalidCryptogram,
		"the cryptogram does not verify for this token")
}
