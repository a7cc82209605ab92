package tokens

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/atlas-network-tokens/atlas/shared/card"
	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/secret"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// CardInput is a card as the merchant's page submits it.
type CardInput struct {
	Number         string
	ExpMonth       int
	ExpYear        int
	CardholderName string
}

// CardToken is a stored card as the API returns it.
type CardToken struct {
	ID       string
	Brand    card.Brand
	Last4    string
	ExpMonth int
	ExpYear  int
}

// sealedCard is what the envelope of a card token holds.
type sealedCard struct {
	PAN            string `json:"pan"`
	ExpMonth       int    `json:"expMonth"`
	ExpYear        int    `json:"expYear"`
	CardholderName string `json:"cardholderName,omitempty"`
}

const maxCardholderName = 100

// TokenizeCard validates a card and stores it sealed under a new card token.
func (s *Service) TokenizeCard(ctx context.Context, sess Session, in CardInput) (CardToken, error) {
	pan, brand, err := card.Validate(in.Number, in.ExpMonth, in.ExpYear, s.now())
	if err != nil {
		return CardToken{}, err
	}
	name := strings.TrimSpace(in.CardholderName)
	if len(name) > maxCardholderName {
		return CardToken{}, fault.Param(fault.ErrInvalid, "invalid_cardholder_name",
			"card[cardholder_name]", "The cardholder name is longer than 100 characters.")
	}

	id := newID(PrefixCardToken)
	plain, err := json.Marshal(sealedCard{
		PAN: pan.Reveal(), ExpMonth: in.ExpMonth, ExpYear: in.ExpYear, CardholderName: name,
	})
	if err != nil {
		return CardToken{}, fmt.Errorf("encoding card: %w", err)
	}
	sealed, err := s.sealer.Seal(ctx, plain, cardContext(sess.MerchantID, id))
	clear(plain)
	if err != nil {
		return CardToken{}, fmt.Errorf("sealing card: %w", err)
	}

	rec := store.CardToken{
		ID:         id,
		MerchantID: sess.MerchantID,
		CustomerID: sess.CustomerID,
		Brand:      string(brand),
		BIN:        pan.BIN(),
		Last4:      pan.Last4(),
		Sealed:     sealed,
		CreatedAt:  s.timestamp(),
	}
	if err := s.store.PutCardToken(ctx, rec); err != nil {
		return CardToken{}, fmt.Errorf("storing card token: %w", err)
	}
	return CardToken{
		ID: id, Brand: brand, Last4: rec.Last4, ExpMonth: in.ExpMonth, ExpYear: in.ExpYear,
	}, nil
}

func cardContext(merchantID, cardID string) envelope.Context {
	return envelope.Context{Merchant: merchantID, Record: cardID, Purpose: purposeCard}
}

// ownedCard loads a card token the session owns.
func (s *Service) ownedCard(ctx context.Context, sess Session, cardID string) (store.CardToken, error) {
	if !cardTokenIDPattern.MatchString(cardID) {
		return store.CardToken{}, errNotFound("token_id", "card token")
	}
	rec, err := s.store.CardToken(ctx, cardID)
	if isNotFound(err) || (err == nil && !sess.owns(rec.MerchantID, rec.CustomerID)) {
		return store.CardToken{}, errNotFound("token_id", "card token")
	}
	return rec, err
}

// openCard opens a card token's sealed card.
func (s *Service) openCard(ctx context.Context, rec store.CardToken) (sealedCard, error) {
	plain, err := s.sealer.Open(ctx, rec.Sealed, cardContext(rec.MerchantID, rec.ID))
	if err != nil {
		return sealedCard{}, fmt.Errorf("opening card: %w", err)
	}
	var c sealedCard
	err = json.Unmarshal(plain, &c)
	clear(plain)
	if err != nil {
		return sealedCard{}, fmt.Errorf("decoding sealed card: %w", err)
	}
	return c, nil
}

func (c sealedCard) pan() secret.PAN { return secret.NewPAN(c.PAN) }
