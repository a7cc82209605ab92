// Package httpapi maps API Gateway HTTP API (payload 2.0) requests to the
// token service and its answers back to HTTP: strict request decoding, auth,
// the one error body, and a log line per request. Each exported method of
// Handlers is a Lambda handler for one route.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/tokens"
	"github.com/atlas-network-tokens/atlas/shared/webhook"
)

// Handler is the Lambda handler shape for an HTTP API route.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Handlers serves the API's routes from one token service.
type Handlers struct {
	svc      *tokens.Service
	log      *slog.Logger
	webhooks *webhook.Registry // set by WithWebhooks
}

// New returns the route handlers.
func New(svc *tokens.Service, log *slog.Logger) *Handlers {
	return &Handlers{svc: svc, log: log}
}

// call is what a route sees: the request and its id.
type call struct {
	req       events.APIGatewayV2HTTPRequest
	requestID string
}

// endpoint is a route's logic: a status and a body, or an error.
type endpoint func(ctx context.Context, c call) (int, any, error)

// wrap turns an endpoint into a Lambda handler that always returns a nil
// error: every outcome, a panic included, is an HTTP response. It logs one
// line per request, never the body.
func (h *Handlers) wrap(route string, fn endpoint) Handler {
	return func(ctx context.Context,
		req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
		start := time.Now()
		c := call{req: req, requestID: requestID(req)}
		log := h.log.With("request_id", c.requestID, "route", route)

		defer func() {
			if p := recover(); p != nil {
				log.Error("handler panicked", "panic_type", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
				resp = errorResponse(classify(fmt.Errorf("panic"), c.requestID))
			}
			log.Info("request", "status", resp.StatusCode, "duration_ms", time.Since(start).Milliseconds())
			err = nil
		}()

		status, out, callErr := fn(ctx, c)
		if callErr != nil {
			status, detail := classify(callErr, c.requestID)
			if status >= 500 {
				log.Error("request failed", "error", callErr.Error())
			} else {
				log.Info("request refused", "code", detail.Code, "param", detail.Param)
			}
			return errorResponse(status, detail), nil
		}
		return jsonResponse(status, out, c.requestID), nil
	}
}

func requestID(req events.APIGatewayV2HTTPRequest) string {
	if id := req.RequestContext.RequestID; id != "" {
		return id
	}
	return "req_" + randomRequestID()
}

func randomRequestID() string { return tokens.NewSecret("")[:32] }

// CreateSession serves POST /functions/v1/sessions.
func (h *Handlers) CreateSession() Handler {
	return h.wrap("POST /sessions", func(ctx context.Context, c call) (int, any, error) {
		key, err := bearer(c.req, tokens.PrefixSecretKey)
		if err != nil {
			return 0, nil, err
		}
		var in createSessionRequest
		if err := decodeBody(c.req, &in); err != nil {
			return 0, nil, err
		}
		if err := in.validate(); err != nil {
			return 0, nil, err
		}
		merchantID, err := h.svc.AuthenticateMerchant(ctx, key)
		if err != nil {
			return 0, nil, err
		}
		sess, err := h.svc.CreateSession(ctx, merchantID, deref(in.CustomerID))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, sessionResponse(sess), nil
	})
}

// CreateCardToken serves POST /functions/v1/tokens.
func (h *Handlers) CreateCardToken() Handler {
	return h.wrap("POST /tokens", func(ctx context.Context, c call) (int, any, error) {
		var in createCardTokenRequest
		sess, err := h.sessionFromBody(ctx, c, &in, func() *string { return in.SessionID })
		if err != nil {
			return 0, nil, err
		}
		ct, err := h.svc.TokenizeCard(ctx, sess, in.card())
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, cardTokenResponse(ct), nil
	})
}

// CreateNetworkToken serves POST /functions/v1/network-tokens.
func (h *Handlers) CreateNetworkToken() Handler {
	return h.wrap("POST /network-tokens", func(ctx context.Context, c call) (int, any, error) {
		var in createNetworkTokenRequest
		sess, err := h.sessionFromBody(ctx, c, &in, func() *string { return in.SessionID })
		if err != nil {
			return 0, nil, err
		}
		p, err := h.svc.ProvisionNetworkToken(ctx, sess, *in.TokenID, deref(in.RequestCryptogram))
		if err != nil {
			return 0, nil, err
		}
		status := http.StatusOK
		if p.Created {
			status = http.StatusCreated
		}
		return status, networkTokenResponse(p.Token, p.Cryptogram), nil
	})
}

// CreateCryptogram serves POST /functions/v1/network-tokens/{id}/cryptogram.
func (h *Handlers) CreateCryptogram() Handler {
	return h.wrap("POST /network-tokens/{id}/cryptogram", func(ctx context.Context, c call) (int, any, error) {
		var in sessionOnlyRequest
		sess, err := h.sessionFromBody(ctx, c, &in, func() *string { return in.SessionID })
		if err != nil {
			return 0, nil, err
		}
		cg, err := h.svc.NewCryptogram(ctx, sess, c.req.PathParameters["id"])
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, cryptogramResponse(cg), nil
	})
}

// GetNetworkToken serves GET /functions/v1/network-tokens/{id}.
func (h *Handlers) GetNetworkToken() Handler {
	return h.wrap("GET /network-tokens/{id}", func(ctx context.Context, c call) (int, any, error) {
		sess, err := h.sessionFromQuery(ctx, c)
		if err != nil {
			return 0, nil, err
		}
		nt, err := h.svc.GetNetworkToken(ctx, sess, c.req.PathParameters["id"])
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, networkTokenResponse(nt, nil), nil
	})
}

// DeleteNetworkToken serves DELETE /functions/v1/network-tokens/{id}.
func (h *Handlers) DeleteNetworkToken() Handler {
	return h.wrap("DELETE /network-tokens/{id}", func(ctx context.Context, c call) (int, any, error) {
		sess, err := h.sessionFromQuery(ctx, c)
		if err != nil {
			return 0, nil, err
		}
		nt, err := h.svc.DeleteNetworkToken(ctx, sess, c.req.PathParameters["id"])
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, networkTokenResponse(nt, nil), nil
	})
}
