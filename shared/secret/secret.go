// Package secret holds values that must never reach a log line, an error
// message, an event or a JSON body by accident: card numbers, cryptograms,
// data keys and client secrets.
//
// Each type keeps its value unexported. fmt verbs, encoding/json and log/slog
// all see a redacted form; the one way to the real value is the Reveal method,
// whose name makes every deliberate use easy to find in review.
package secret

import (
	"fmt"
	"log/slog"
)

const redacted = "[REDACTED]"

// PAN is a primary account number: a card's or a token's.
type PAN struct{ digits string }

// NewPAN wraps digits as a PAN. It does not validate them.
func NewPAN(digits string) PAN { return PAN{digits: digits} }

// Reveal returns the digits. Call it only to encrypt, to send to a network,
// or to compute a check value.
func (p PAN) Reveal() string { return p.digits }

// Last4 returns the last four digits, which may be shown and stored in clear.
func (p PAN) Last4() string {
	if len(p.digits) < 4 {
		return ""
	}
	return p.digits[len(p.digits)-4:]
}

// BIN returns the first six digits, which may be stored in clear.
func (p PAN) BIN() string {
	if len(p.digits) < 6 {
		return ""
	}
	return p.digits[:6]
}

// IsZero reports whether the PAN is empty.
func (p PAN) IsZero() bool { return p.digits == "" }

func (p PAN) String() string                { return maskPAN(p.digits) }
func (p PAN) GoString() string              { return maskPAN(p.digits) }
func (p PAN) Format(f fmt.State, verb rune) { fmt.Fprint(f, maskPAN(p.digits)) }
func (p PAN) LogValue() slog.Value          { return slog.StringValue(maskPAN(p.digits)) }
func (p PAN) MarshalJSON() ([]byte, error)  { return []byte(`"` + maskPAN(p.digits) + `"`), nil }
func (p PAN) MarshalText() ([]byte, error)  { return []byte(maskPAN(p.digits)), nil }

func maskPAN(digits string) string {
	if len(digits) < 4 {
		return redacted
	}
	return "****" + digits[len(digits)-4:]
}

// Value is any other secret: a cryptogram, a data key, a client secret, a
// signing secret. It redacts to a fixed string that says nothing of the value.
type Value struct{ s string }

// New wraps s as a secret value.
func New(s string) Value { return Value{s: s} }

// Reveal returns the secret. Call it only where the value must leave the
// process on purpose: a response body that hands it to its owner, a hash, a
// signature.
func (v Value) Reveal() string { return v.s }

// IsZero reports whether the secret is empty.
func (v Value) IsZero() bool { return v.s == "" }

func (v Value) String() string                { return redacted }
func (v Value) GoString() string              { return redacted }
func (v Value) Format(f fmt.State, verb rune) { fmt.Fprint(f, redacted) }
func (v Value) LogValue() slog.Value          { return slog.StringValue(redacted) }
func (v Value) MarshalJSON() ([]byte, error)  { return []byte(`"` + redacted + `"`), nil }
func (v Value) MarshalText() ([]byte, error)  { return []byte(redacted), nil }
