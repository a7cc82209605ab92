package httpapi

import (
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/tokens"
)

// Requests are snake_case, as the published API shows. Every field is a
// pointer so that absent and wrong-typed fields can be told apart.

type validator interface{ validate() error }

func decodeBody(req events.APIGatewayV2HTTPRequest, dst validator) error {
	raw, err := body(req)
	if err != nil {
		return err
	}
	return decodeStrict(raw, dst)
}

type createSessionRequest struct {
	CustomerID *string `json:"customer_id"`
}

const maxCustomerID = 255

func (r *createSessionRequest) validate() error {
	if r.CustomerID != nil && len(*r.CustomerID) > maxCustomerID {
		return fault.Param(fault.ErrInvalid, "invalid_customer_id", "customer_id",
			"customer_id must be at most 255 characters.")
	}
	return nil
}

type cardRequest struct {
	Number         *string `json:"number" required:"true"`
	ExpMonth       *int    `json:"exp_month" required:"true"`
	ExpYear        *int    `json:"exp_year" required:"true"`
	CardholderName *string `json:"cardholder_name"`
}

type createCardTokenRequest struct {
	SessionID *string      `json:"session_id" required:"true"`
	Card      *cardRequest `json:"card" required:"true"`
}

func (r *createCardTokenRequest) validate() error { return nil }

func (r *createCardTokenRequest) card() tokens.CardInput {
	return tokens.CardInput{
		Number: *r.Card.Number, ExpMonth: *r.Card.ExpMonth, ExpYear: *r.Card.ExpYear,
		CardholderName: deref(r.Card.CardholderName),
	}
}

type createNetworkTokenRequest struct {
	SessionID         *string `json:"session_id" required:"true"`
	TokenID           *string `json:"token_id" required:"true"`
	RequestCryptogram *bool   `json:"request_cryptogram"`
}

func (r *createNetworkTokenRequest) validate() error { return nil }

type sessionOnlyRequest struct {
	SessionID *string `json:"session_id" required:"true"`
}

func (r *sessionOnlyRequest) validate() error { return nil }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Responses are camelCase.

type sessionBody struct {
	ID           string `json:"id"`
	ClientSecret string `json:"clientSecret"`
	CustomerID   string `json:"customerId,omitempty"`
	ExpiresAt    string `json:"expiresAt"`
}

func sessionResponse(s tokens.Session) sessionBody {
	return sessionBody{
		ID: s.ID, ClientSecret: s.ClientSecret.Reveal(), CustomerID: s.CustomerID,
		ExpiresAt: s.ExpiresAt.UTC().Format(time.RFC3339),
	}
}

type cardTokenBody struct {
	ID       string `json:"id"`
	Brand    string `json:"brand"`
	Last4    string `json:"last4"`
	ExpMonth int    `json:"expMonth"`
	ExpYear  int    `json:"expYear"`
}

func cardTokenResponse(ct tokens.CardToken) cardTokenBody {
	return cardTokenBody{
		ID: ct.ID, Brand: string(ct.Brand), Last4: ct.Last4,
		ExpMonth: ct.ExpMonth, ExpYear: ct.ExpYear,
	}
}

type networkTokenBody struct {
	NetworkTokenID          string `json:"networkTokenId"`
	Network                 string `json:"network"`
	Status                  string `json:"status"`
	TokenExpiryMonth        string `json:"tokenExpiryMonth"`
	TokenExpiryYear         string `json:"tokenExpiryYear"`
	TokenLast4              string `json:"tokenLast4"`
	CardLast4               string `json:"cardLast4"`
	PaymentAccountReference string `json:"paymentAccountReference"`
	CreatedAt               string `json:"createdAt"`
	UpdatedAt               string `json:"updatedAt"`
	Cryptogram              string `json:"cryptogram,omitempty"`
	CryptogramType          string `json:"cryptogramType,omitempty"`
	ECI                     string `json:"eci,omitempty"`
	CryptogramExpiresAt     string `json:"cryptogramExpiresAt,omitempty"`
}

func networkTokenResponse(nt tokens.NetworkToken, cg *tokens.Cryptogram) networkTokenBody {
	b := networkTokenBody{
		NetworkTokenID: nt.ID, Network: string(nt.Network), Status: nt.Status,
		TokenExpiryMonth: fmt.Sprintf("%02d", nt.ExpiryMonth),
		TokenExpiryYear:  fmt.Sprintf("%04d", nt.ExpiryYear),
		TokenLast4:       nt.TokenLast4, CardLast4: nt.CardLast4,
		PaymentAccountReference: nt.PAR, CreatedAt: nt.CreatedAt, UpdatedAt: nt.UpdatedAt,
	}
	if cg != nil {
		b.Cryptogram, b.CryptogramType, b.ECI = cg.Value.Reveal(), cg.Type, cg.ECI
		b.CryptogramExpiresAt = cg.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return b
}

type cryptogramBody struct {
	Cryptogram     string `json:"cryptogram"`
	CryptogramType string `json:"cryptogramType"`
	ECI            string `json:"eci,omitempty"`
	ExpiresAt      string `json:"expiresAt"`
}

func cryptogramResponse(cg tokens.Cryptogram) cryptogramBody {
	return cryptogramBody{
		Cryptogram: cg.Value.Reveal(), CryptogramType: cg.Type, ECI: cg.ECI,
		ExpiresAt: cg.ExpiresAt.UTC().Format(time.RFC3339),
	}
}
