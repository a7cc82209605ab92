// Package fault is the one set of errors the service speaks in. Packages wrap
// these with a short phrase of context; the HTTP layer maps them to a status
// and an error body in one place, with errors.Is and errors.As, never by text.
package fault

import "errors"

// Kinds of failure. Each maps to one HTTP status.
var (
	ErrInvalid      = errors.New("invalid request")     // 400
	ErrUnauthorized = errors.New("unauthorized")        // 401
	ErrNotFound     = errors.New("not found")           // 404
	ErrConflict     = errors.New("conflict")            // 409
	ErrTooLarge     = errors.New("request too large")   // 413
	ErrRefused      = errors.New("refused")             // 422
	ErrUnavailable  = errors.New("service unavailable") // 503, retryable
)

// Error is a failure the caller is meant to read: a stable snake_case code, a
// message in plain words, and the request parameter at fault where there is
// one. Kind is one of the sentinels above; errors.Is(err, fault.ErrConflict)
// holds for an *Error whose Kind is ErrConflict.
type Error struct {
	Kind    error
	Code    string
	Message string
	Param   string
}

func (e *Error) Error() string {
	if e.Param != "" {
		return e.Code + ": " + e.Message + " (" + e.Param + ")"
	}
	return e.Code + ": " + e.Message
}

// Unwrap lets errors.Is see the kind.
func (e *Error) Unwrap() error { return e.Kind }

// New returns an *Error of the given kind.
func New(kind error, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Param returns an *Error of the given kind that names a request parameter.
func Param(kind error, code, param, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message, Param: param}
}
