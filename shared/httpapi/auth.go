package httpapi

import (
	"context"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/tokens"
)

// header returns a request header; HTTP API lowercases header names, the dev
// server and hand-written events may not.
func header(req events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := req.Headers[name]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// bearer returns the credential of an "Authorization: Bearer <prefix>…"
// header, or a 401 that says what is wrong without echoing it.
func bearer(req events.APIGatewayV2HTTPRequest, prefix string) (string, error) {
	h := header(req, "authorization")
	if h == "" {
		return "", fault.New(fault.ErrUnauthorized, "missing_authorization",
			"Send the credential as 'Authorization: Bearer <key>'.")
	}
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(cred) == "" {
		return "", fault.New(fault.ErrUnauthorized, "invalid_authorization",
			"The Authorization header must be 'Bearer <key>'.")
	}
	cred = strings.TrimSpace(cred)
	if !strings.HasPrefix(cred, prefix) {
		return "", fault.New(fault.ErrUnauthorized, "invalid_authorization",
			"This endpoint takes a "+describeCredential(prefix)+" ("+prefix+"…).")
	}
	return cred, nil
}

func describeCredential(prefix string) string {
	if prefix == tokens.PrefixSecretKey {
		return "merchant secret key"
	}
	return "session client secret"
}

// sessionFromBody decodes a body that carries session_id and authenticates
// the session with the client secret.
func (h *Handlers) sessionFromBody(ctx context.Context, c call, dst validator,
	sessionID func() *string) (tokens.Session, error) {
	secret, err := bearer(c.req, tokens.PrefixClientSecret)
	if err != nil {
		return tokens.Session{}, err
	}
	if err := decodeBody(c.req, dst); err != nil {
		return tokens.Session{}, err
	}
	if err := dst.validate(); err != nil {
		return tokens.Session{}, err
	}
	return h.svc.AuthenticateSession(ctx, *sessionID(), secret)
}

// sessionFromQuery authenticates the session named by ?session_id=.
func (h *Handlers) sessionFromQuery(ctx context.Context, c call) (tokens.Session, error) {
	secret, err := bearer(c.req, tokens.PrefixClientSecret)
	if err != nil {
		return tokens.Session{}, err
	}
	for name := range c.req.QueryStringParameters {
		if name != "session_id" {
			name = echoable(name)
			return tokens.Session{}, fault.Param(fault.ErrInvalid, "unknown_parameter", name,
				"Unknown parameter: "+name+".")
		}
	}
	id := c.req.QueryStringParameters["session_id"]
	if id == "" {
		return tokens.Session{}, fault.Param(fault.ErrInvalid, "missing_parameter", "session_id",
			"Missing required parameter: session_id.")
	}
	return h.svc.AuthenticateSession(ctx, id, secret)
}
