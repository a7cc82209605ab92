package webhook

import (
	"time"

	"github.com/atlas-network-tokens/atlas/shared/signature"
)

// Headers of every delivery.
const (
	HeaderSignature = "Atlas-Signature"
	HeaderEventID   = "Atlas-Event-Id"
	HeaderEventType = "Atlas-Event-Type"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock, either way, when Verify is given no tolerance.
const DefaultTolerance = signature.DefaultTolerance

// Errors from Verify. Each means the delivery must be refused; none says
// which part of the secret or body was wrong.
var (
	ErrSignatureHeader   = signature.ErrMalformed
	ErrSignatureExpired  = signature.ErrStale
	ErrSignatureMismatch = signature.ErrMismatch
)

// Sign returns the Atlas-Signature header value for body sent at t:
//
//	t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<unix seconds>." + body)>
//
// The key is the secret string exactly as registration returned it,
// "whsec_" prefix included. The timestamp is inside the MAC, so a receiver
// that checks it against its clock refuses a captured delivery replayed
// later. The scheme is package signature's, shared with the networks'
// notifications.
func Sign(secret string, t time.Time, body []byte) string {
	return signature.Sign([]byte(secret), t, body)
}

// Verify checks an Atlas-Signature header against the raw request body, as
// received and before any parsing; see signature.Verify. The errors are
// ErrSignatureHeader, ErrSignatureExpired and ErrSignatureMismatch.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	return signature.Verify([]byte(secret), header, body, now, tolerance)
}
