package networks

import "github.com/atlas-network-tokens/atlas/shared/card"

// Behaviour is how the sandbox answers a provisioning request for a card.
type Behaviour string

// Sandbox behaviours.
const (
	// BehaviourApprove: the network creates an active token.
	BehaviourApprove Behaviour = "approve"
	// BehaviourDecline: the network declines (network_declined).
	BehaviourDecline Behaviour = "decline"
	// BehaviourRequiresAuth: the issuer asks for step-up authentication
	// (requires_additional_authentication).
	BehaviourRequiresAuth Behaviour = "requires_additional_authentication"
	// BehaviourNotSupported: the brand has no token service here
	// (network_not_supported, from ForBrand).
	BehaviourNotSupported Behaviour = "network_not_supported"
)

// TestCard is a card number with a fixed sandbox behaviour.
type TestCard struct {
	Number      string
	Brand       card.Brand
	Behaviour   Behaviour
	Description string
}

// TestCards are the sandbox's test cards. Every number passes the Luhn check.
// Any other valid number of a supported brand is approved.
var TestCards = []TestCard{
	{"4242424242424242", card.Visa, BehaviourApprove, "Visa: token created"},
	{"4111111111111111", card.Visa, BehaviourApprove, "Visa: token created"},
	{"5555555555554444", card.Mastercard, BehaviourApprove, "Mastercard: token created"},
	{"2223003122003222", card.Mastercard, BehaviourApprove,
		"Mastercard (2-series BIN): token created"},
	{"378282246310005", card.Amex, BehaviourApprove, "American Express: token created"},
	{"4000000000000002", card.Visa, BehaviourDecline, "Visa: provisioning declined"},
	{"5105105105105100", card.Mastercard, BehaviourDecline,
		"Mastercard: provisioning declined"},
	{"371449635398431", card.Amex, BehaviourDecline,
		"American Express: provisioning declined"},
	{"4000002760003184", card.Visa, BehaviourRequiresAuth,
		"Visa: issuer requires additional authentication"},
	{"5200828282828210", card.Mastercard, BehaviourRequiresAuth,
		"Mastercard: issuer requires additional authentication"},
	{"378734493671000", card.Amex, BehaviourRequiresAuth,
		"American Express: issuer requires additional authentication"},
	{"6011111111111117", card.Discover, BehaviourNotSupported,
		"Discover: network tokens not supported yet"},
}

// behaviourOf returns the sandbox behaviour for a card number: its test
// card's, or BehaviourApprove.
func behaviourOf(number string) Behaviour {
	for _, tc := range TestCards {
		if tc.Number == number {
			return tc.Behaviour
		}
	}
	return BehaviourApprove
}
