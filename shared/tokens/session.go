package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/secret"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// Session is a payment session as the API returns it. ClientSecret is set
// only on creation.
type Session struct {
	ID           string
	ClientSecret secret.Value
	MerchantID   string
	CustomerID   string
	ExpiresAt    time.Time
}

var errBadCredentials = fault.New(fault.ErrUnauthorized, "invalid_credentials",
	"The credentials in the Authorization header are not valid for this request.")

// RegisterMerchantKey records a merchant's secret key (stored hashed).
func (s *Service) RegisterMerchantKey(ctx context.Context, merchantID, secretKey string) error {
	return s.store.PutMerchantKey(ctx, merchantID, HashSecret(secretKey))
}

// AuthenticateMerchant returns the merchant that owns a secret key.
func (s *Service) AuthenticateMerchant(ctx context.Context, secretKey string) (string, error) {
	hash := HashSecret(secretKey)
	mk, err := s.store.MerchantKey(ctx, hash)
	if errors.Is(err, fault.ErrNotFound) {
		return "", errBadCredentials
	}
	if err != nil {
		return "", err
	}
	if !sameHash(mk.KeyHash, hash) {
		return "", errBadCredentials
	}
	return mk.MerchantID, nil
}

// CreateSession starts a 24-hour payment session for a merchant.
func (s *Service) CreateSession(ctx context.Context, merchantID, customerID string) (Session, error) {
	clientSecret := NewSecret(PrefixClientSecret)
	now := s.now().UTC()
	rec := store.Session{
		ID:         newID(PrefixSession),
		MerchantID: merchantID,
		CustomerID: customerID,
		SecretHash: HashSecret(clientSecret),
		CreatedAt:  now.Format(time.RFC3339),
		ExpiresAt:  now.Add(SessionLifetime).Unix(),
	}
	if err := s.store.PutSession(ctx, rec); err != nil {
		return Session{}, fmt.Errorf("creating session: %w", err)
	}
	return Session{
		ID:           rec.ID,
		ClientSecret: secret.New(clientSecret),
		MerchantID:   merchantID,
		CustomerID:   customerID,
		ExpiresAt:    time.Unix(rec.ExpiresAt, 0).UTC(),
	}, nil
}

// AuthenticateSession checks a client secret against a live session. An
// unknown, expired or mismatched session all give the same 401.
func (s *Service) AuthenticateSession(ctx context.Context, sessionID, clientSecret string) (Session, error) {
	if !sessionIDPattern.MatchString(sessionID) {
		return Session{}, fault.Param(fault.ErrUnauthorized, "invalid_session", "session_id",
			"The session does not exist, has expired, or does not match the client secret.")
	}
	rec, err := s.store.Session(ctx, sessionID)
	if errors.Is(err, fault.ErrNotFound) || (err == nil && !sameHash(rec.SecretHash, HashSecret(clientSecret))) {
		return Session{}, fault.Param(fault.ErrUnauthorized, "invalid_session", "session_id",
			"The session does not exist, has expired, or does not match the client secret.")
	}
	if err != nil {
		return Session{}, err
	}
	return Session{
		ID:         rec.ID,
		MerchantID: rec.MerchantID,
		CustomerID: rec.CustomerID,
		ExpiresAt:  time.Unix(rec.ExpiresAt, 0).UTC(),
	}, nil
}

// owns reports whether a record made under some session belongs to this
// session's merchant and customer.
func (sess Session) owns(merchantID, customerID string) bool {
	return sess.MerchantID == merchantID && sess.CustomerID == customerID
}
