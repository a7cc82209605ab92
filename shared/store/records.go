package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// Key prefixes. An item's pk names its kind and id; sk is a fixed tag, or a
// sub-record under the same pk.
const (
	prefixMerchantKey = "MKEY#"
	prefixSession     = "SESS#"
	prefixCard        = "CARD#"
	prefixNetToken    = "NT#"
	prefixNetRef      = "NETREF#"
	prefixCryptogram  = "CRYPTO#"
	prefixOutbox      = "OUTBOX#"
	prefixSim         = "SIM#"
)

// MerchantKey maps the SHA-256 of a merchant's secret key to the merchant.
// The key itself is never stored.
type MerchantKey struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	MerchantID string `dynamodbav:"merchantId"`
	KeyHash    []byte `dynamodbav:"keyHash"`
	CreatedAt  string `dynamodbav:"createdAt"`
}

// PutMerchantKey records that the secret key with this hash belongs to the
// merchant. Recording the same pair again is not an error.
func (s *Store) PutMerchantKey(ctx context.Context, merchantID string, keyHash []byte) error {
	item := MerchantKey{
		PK:         prefixMerchantKey + fmt.Sprintf("%x", keyHash),
		SK:         "MKEY",
		MerchantID: merchantID,
		KeyHash:    keyHash,
		CreatedAt:  s.now().UTC().Format(time.RFC3339),
	}
	err := s.putNew(ctx, item)
	if err == nil || !isConflict(err) {
		return err
	}
	existing, getErr := s.MerchantKey(ctx, keyHash)
	if getErr != nil {
		return getErr
	}
	if existing.MerchantID != merchantID {
		return fmt.Errorf("merchant key belongs to another merchant: %w", fault.ErrConflict)
	}
	return nil
}

// MerchantKey returns the record for a secret key hash, or fault.ErrNotFound.
func (s *Store) MerchantKey(ctx context.Context, keyHash []byte) (MerchantKey, error) {
	var mk MerchantKey
	k := key{PK: prefixMerchantKey + fmt.Sprintf("%x", keyHash), SK: "MKEY"}
	if err := s.get(ctx, k, &mk); err != nil {
		return MerchantKey{}, fmt.Errorf("merchant key: %w", err)
	}
	return mk, nil
}

// Session is a payment session. Its client secret is stored as a SHA-256
// hash; the session is gone once ExpiresAt passes.
type Session struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	ID         string `dynamodbav:"id"`
	MerchantID string `dynamodbav:"merchantId"`
	CustomerID string `dynamodbav:"customerId,omitempty"`
	SecretHash []byte `dynamodbav:"secretHash"`
	CreatedAt  string `dynamodbav:"createdAt"`
	ExpiresAt  int64  `dynamodbav:"expiresAt"`
}

// PutSession stores a new session.
func (s *Store) PutSession(ctx context.Context, sess Session) error {
	sess.PK, sess.SK = prefixSession+sess.ID, "SESS"
	return s.putNew(ctx, sess)
}

// Session returns a live session, or fault.ErrNotFound when it is absent or
// has expired.
func (s *Store) Session(ctx context.Context, id string) (Session, error) {
	var sess Session
	if err := s.get(ctx, key{PK: prefixSession + id, SK: "SESS"}, &sess); err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	if !s.live(sess.ExpiresAt) {
		return Session{}, fmt.Errorf("session expired: %w", fault.ErrNotFound)
	}
	return sess, nil
}

// CardToken is a stored card. The PAN and card expiry are only in Sealed;
// brand, BIN and last four digits are kept in clear.
type CardToken struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	ID         string `dynamodbav:"id"`
	MerchantID string `dynamodbav:"merchantId"`
	CustomerID string `dynamodbav:"customerId,omitempty"`
	Brand      string `dynamodbav:"brand"`
	BIN        string `dynamodbav:"bin"`
	Last4      string `dynamodbav:"last4"`
	Sealed     []byte `dynamodbav:"sealed"`
	CreatedAt  string `dynamodbav:"createdAt"`
}

// PutCardToken stores a new card token.
func (s *Store) PutCardToken(ctx context.Context, ct CardToken) error {
	ct.PK, ct.SK = prefixCard+ct.ID, "CARD"
	return s.putNew(ctx, ct)
}

// CardToken returns a card token, or fault.ErrNotFound.
func (s *Store) CardToken(ctx context.Context, id string) (CardToken, error) {
	var ct CardToken
	if err := s.get(ctx, key{PK: prefixCard + id, SK: "CARD"}, &ct); err != nil {
		return CardToken{}, fmt.Errorf("card token: %w", err)
	}
	return ct, nil
}

func isConflict(err error) bool { return err != nil && errors.Is(err, fault.ErrConflict) }
