package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/card"
	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/networks"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// NetworkToken is a network token as the API returns it: never its PAN.
type NetworkToken struct {
	ID          string
	Network     networks.Network
	Status      string
	ExpiryMonth int
	ExpiryYear  int
	TokenLast4  string
	CardLast4   string
	PAR         string
	CreatedAt   string
	UpdatedAt   string
}

// Cryptogram is a fresh single-use cryptogram.
type Cryptogram struct {
	networks.Cryptogram
	ExpiresAt time.Time
}

// Provisioned is the outcome of ProvisionNetworkToken.
type Provisioned struct {
	Token NetworkToken
	// Created is false when the card already had a live token, which is
	// returned instead of provisioning another.
	Created    bool
	Cryptogram *Cryptogram
}

// eventData is the data of network_token.* events: identifiers and display
// fields only, never a PAN.
type eventData struct {
	NetworkTokenID string `json:"networkTokenId"`
	CardTokenID    string `json:"cardTokenId"`
	Network        string `json:"network"`
	Status         string `json:"status"`
	TokenLast4     string `json:"tokenLast4"`
	CardLast4      string `json:"cardLast4"`
	Expiry         string `json:"expiry"`
}

func tokenEventData(nt store.NetworkToken) eventData {
	return eventData{
		NetworkTokenID: nt.ID, CardTokenID: nt.CardTokenID, Network: nt.Network,
		Status: nt.Status, TokenLast4: nt.TokenLast4, CardLast4: nt.CardLast4,
		Expiry: fmt.Sprintf("%02d/%04d", nt.TokenExpMonth, nt.TokenExpYear),
	}
}

// ProvisionNetworkToken turns a card token into a network token. A card has
// at most one live network token: asking again returns it, even when the
// requests race.
func (s *Service) ProvisionNetworkToken(ctx context.Context, sess Session, cardID string, withCryptogram bool) (Provisioned, error) {
	cardRec, err := s.ownedCard(ctx, sess, cardID)
	if err != nil {
		return Provisioned{}, err
	}
	network, err := networks.ForBrand(card.Brand(cardRec.Brand))
	if err != nil {
		return Provisioned{}, err
	}
	provider, err := s.networks.Provider(network)
	if err != nil {
		return Provisioned{}, err
	}

	ntID := newID(PrefixNetworkToken)
	existing, err := s.claim(ctx, cardRec.ID, ntID)
	if err != nil {
		return Provisioned{}, err
	}
	if existing != nil {
		return s.withCryptogram(ctx, *existing, false, withCryptogram)
	}

	// Only now is the card opened: a repeat request for a card that has
	// its token costs no KMS call.
	rec, err := s.provision(ctx, provider, cardRec, ntID)
	if err != nil {
		if releaseErr := s.store.ReleaseClaim(ctx, cardRec.ID, ntID); releaseErr != nil {
			err = errors.Join(err, releaseErr)
		}
		return Provisioned{}, err
	}
	return s.withCryptogram(ctx, rec, true, withCryptogram)
}

// claim takes the card for a new token, or returns the live token the card
// already has. Another request that is provisioning the same card right now
// is waited for, briefly.
func (s *Service) claim(ctx context.Context, cardID, ntID string) (*store.NetworkToken, error) {
	const attempts = 20
	for range attempts {
		err := s.store.ClaimCard(ctx, cardID, ntID, claimLease)
		if err == nil {
			return nil, nil
		}
		if !errors.Is(err, fault.ErrConflict) {
			return nil, err
		}
		link, err := s.store.CardLink(ctx, cardID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if link.State == store.LinkLinked {
			nt, err := s.store.NetworkToken(ctx, link.NetworkTokenID)
			if err != nil {
				return nil, err
			}
			if nt.Status != store.StatusDeleted {
				return &nt, nil
			}
			continue
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return nil, fault.Param(fault.ErrConflict, "provisioning_in_progress", "token_id",
		"A network token for this card is being provisioned by another request; retry shortly.")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// provision asks the network for a token and records it. If recording
// fails, the token is deleted at the network again, so no orphan lives on.
func (s *Service) provision(ctx context.Context, provider networks.Provider,
	cardRec store.CardToken, ntID string) (store.NetworkToken, error) {
	c, err := s.openCard(ctx, cardRec)
	if err != nil {
		return store.NetworkToken{}, err
	}
	tok, err := provider.Provision(ctx, networks.ProvisionRequest{
		MerchantID: cardRec.MerchantID, CardPAN: c.pan(),
		CardExpMonth: c.ExpMonth, CardExpYear: c.ExpYear, CardholderName: c.CardholderName,
	})
	if err != nil {
		return store.NetworkToken{}, fmt.Errorf("provisioning at %s: %w", provider.Network(), err)
	}

	rec, err := s.record(ctx, cardRec, c, ntID, tok)
	if err == nil {
		return rec, nil
	}
	if delErr := provider.Delete(ctx, tok.Reference); delErr != nil {
		err = errors.Join(err, fmt.Errorf("undoing provisioning: %w", delErr))
	}
	return store.NetworkToken{}, err
}

func (s *Service) record(ctx context.Context, cardRec store.CardToken, c sealedCard, ntID string, tok networks.Token) (store.NetworkToken, error) {
	sealedPAN, err := s.sealer.Seal(ctx, []byte(tok.TokenPAN.Reveal()), tokenPANContext(cardRec.MerchantID, ntID))
	if err != nil {
		return store.NetworkToken{}, fmt.Errorf("sealing token PAN: %w", err)
	}
	now := s.timestamp()
	rec := store.NetworkToken{
		ID: ntID, MerchantID: cardRec.MerchantID, CustomerID: cardRec.CustomerID,
		CardTokenID: cardRec.ID, Network: string(tok.Network), Reference: tok.Reference,
		SealedTokenPAN: sealedPAN, TokenLast4: tok.TokenPAN.Last4(),
		TokenExpMonth: tok.ExpiryMonth, TokenExpYear: tok.ExpiryYear,
		CardLast4: cardRec.Last4, CardExpMonth: c.ExpMonth, CardExpYear: c.ExpYear,
		PAR: tok.PAR, Status: string(tok.Status), Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	event, err := s.outbox(publish.NetworkTokenCreated, rec.MerchantID, tokenEventData(rec))
	if err != nil {
		return store.NetworkToken{}, err
	}
	if err := s.store.CreateNetworkToken(ctx, rec, event); err != nil {
		return store.NetworkToken{}, err
	}
	s.notifyQueued()
	return rec, nil
}

func tokenPANContext(merchantID, ntID string) envelope.Context {
	return envelope.Context{Merchant: merchantID, Record: ntID, Purpose: purposeTokenPAN}
}

func (s *Service) withCryptogram(ctx context.Context, rec store.NetworkToken, created, want bool) (Provisioned, error) {
	p := Provisioned{Token: view(rec), Created: created}
	if !want {
		return p, nil
	}
	if rec.Status != store.StatusActive {
		return Provisioned{}, errNotActive(rec.Status)
	}
	c, err := s.cryptogramFor(ctx, rec)
	if err != nil {
		return Provisioned{}, err
	}
	p.Cryptogram = &c
	return p, nil
}

// ownedToken loads a network token the session owns.
func (s *Service) ownedToken(ctx context.Context, sess Session, ntID string) (store.NetworkToken, error) {
	if !networkTokenIDPattern.MatchString(ntID) {
		return store.NetworkToken{}, errNotFound("id", "network token")
	}
	rec, err := s.store.NetworkToken(ctx, ntID)
	if isNotFound(err) || (err == nil && !sess.owns(rec.MerchantID, rec.CustomerID)) {
		return store.NetworkToken{}, errNotFound("id", "network token")
	}
	return rec, err
}

// GetNetworkToken returns a token the session owns.
func (s *Service) GetNetworkToken(ctx context.Context, sess Session, ntID string) (NetworkToken, error) {
	rec, err := s.ownedToken(ctx, sess, ntID)
	if err != nil {
		return NetworkToken{}, err
	}
	return view(rec), nil
}

// NewCryptogram issues a single-use cryptogram for an active token.
func (s *Service) NewCryptogram(ctx context.Context, sess Session, ntID string) (Cryptogram, error) {
	rec, err := s.ownedToken(ctx, sess, ntID)
	if err != nil {
		return Cryptogram{}, err
	}
	if rec.Status != store.StatusActive {
		return Cryptogram{}, errNotActive(rec.Status)
	}
	return s.cryptogramFor(ctx, rec)
}

func errNotActive(status string) error {
	return fault.New(fault.ErrConflict, "token_not_active",
		"The network token is "+status+"; only an active token yields a cryptogram.")
}

func (s *Service) cryptogramFor(ctx context.Context, rec store.NetworkToken) (Cryptogram, error) {
	provider, err := s.networks.Provider(networks.Network(rec.Network))
	if err != nil {
		return Cryptogram{}, err
	}
	c, err := provider.Cryptogram(ctx, rec.Reference)
	if err != nil {
		return Cryptogram{}, fmt.Errorf("cryptogram at %s: %w", rec.Network, err)
	}
	expiresAt := s.now().UTC().Add(CryptogramLifetime).Truncate(time.Second)
	if err := s.store.PutCryptogramIssue(ctx, rec.ID, c.ATC, expiresAt); err != nil {
		return Cryptogram{}, fmt.Errorf("recording cryptogram: %w", err)
	}
	return Cryptogram{Cryptogram: c, ExpiresAt: expiresAt}, nil
}

// DeleteNetworkToken deletes a token at its network, for good. Deleting a
// deleted token returns it as it is.
func (s *Service) DeleteNetworkToken(ctx context.Context, sess Session, ntID string) (NetworkToken, error) {
	rec, err := s.ownedToken(ctx, sess, ntID)
	if err != nil {
		return NetworkToken{}, err
	}
	if rec.Status == store.StatusDeleted {
		return view(rec), nil
	}
	provider, err := s.networks.Provider(networks.Network(rec.Network))
	if err != nil {
		return NetworkToken{}, err
	}
	if err := provider.Delete(ctx, rec.Reference); err != nil {
		return NetworkToken{}, fmt.Errorf("deleting at %s: %w", rec.Network, err)
	}

	// The network has deleted the token; record it, however many other
	// changes race with us, so the two never disagree for long.
	const attempts = 5
	for range attempts {
		deleted, done, err := s.recordDeletion(ctx, rec)
		if err != nil || done {
			return deleted, err
		}
		if rec, err = s.ownedToken(ctx, sess, ntID); err != nil {
			return NetworkToken{}, err
		}
		if rec.Status == store.StatusDeleted {
			return view(rec), nil
		}
	}
	return NetworkToken{}, fault.New(fault.ErrConflict, "concurrent_update",
		"The network token kept changing while it was deleted; retry.")
}

// recordDeletion writes a token's deletion and its event. done is false
// when another change won the race and the caller should look again.
func (s *Service) recordDeletion(ctx context.Context, rec store.NetworkToken) (NetworkToken, bool, error) {
	prev := rec.Version
	rec.Status, rec.Version, rec.UpdatedAt = store.StatusDeleted, prev+1, s.timestamp()
	event, err := s.outbox(publish.NetworkTokenDeleted, rec.MerchantID, statusData(rec, reasonMerchantRequest))
	if err != nil {
		return NetworkToken{}, false, err
	}
	err = s.store.UpdateNetworkToken(ctx, rec, prev, event)
	if errors.Is(err, fault.ErrConflict) {
		return NetworkToken{}, false, nil
	}
	if err != nil {
		return NetworkToken{}, false, err
	}
	s.notifyQueued()
	return view(rec), true, nil
}

func view(rec store.NetworkToken) NetworkToken {
	return NetworkToken{
		ID: rec.ID, Network: networks.Network(rec.Network), Status: rec.Status,
		ExpiryMonth: rec.TokenExpMonth, ExpiryYear: rec.TokenExpYear,
		TokenLast4: rec.TokenLast4, CardLast4: rec.CardLast4, PAR: rec.PAR,
		CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
	}
}

func isNotFound(err error) bool { return errors.Is(err, fault.ErrNotFound) }
