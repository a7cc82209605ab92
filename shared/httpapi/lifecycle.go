package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/networks"
	"github.com/atlas-network-tokens/atlas/shared/tokens"
)

// NotificationSignatureHeader carries a network's signature on an inbound
// notification: t=<unix seconds>,v1=<hex HMAC-SHA256>.
const NotificationSignatureHeader = "atlas-network-signature"

// SuspendNetworkToken serves POST /functions/v1/network-tokens/{id}/suspend.
func (h *Handlers) SuspendNetworkToken() Handler {
	return h.wrap("POST /network-tokens/{id}/suspend", func(ctx context.Context, c call) (int, any, error) {
		var in sessionOnlyRequest
		sess, err := h.sessionFromBody(ctx, c, &in, func() *string { return in.SessionID })
		if err != nil {
			return 0, nil, err
		}
		nt, err := h.svc.SuspendNetworkToken(ctx, sess, c.req.PathParameters["id"])
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, networkTokenResponse(nt, nil), nil
	})
}

// ResumeNetworkToken serves POST /functions/v1/network-tokens/{id}/resume.
func (h *Handlers) ResumeNetworkToken() Handler {
	return h.wrap("POST /network-tokens/{id}/resume", func(ctx context.Context, c call) (int, any, error) {
		var in sessionOnlyRequest
		sess, err := h.sessionFromBody(ctx, c, &in, func() *string { return in.SessionID })
		if err != nil {
			return 0, nil, err
		}
		nt, err := h.svc.ResumeNetworkToken(ctx, sess, c.req.PathParameters["id"])
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, networkTokenResponse(nt, nil), nil
	})
}

type notificationAck struct {
	ResponseID string                       `json:"responseId"`
	Outcomes   []tokens.NotificationOutcome `json:"outcomes"`
}

// ReceiveNotification serves POST
// /functions/v1/network-tokens/notifications/{network}: a card network's
// lifecycle message, authenticated by its signature. Unknown tokens are
// acknowledged, so the network does not retry them forever.
func (h *Handlers) ReceiveNotification() Handler {
	const route = "POST /network-tokens/notifications/{network}"
	return h.wrap(route, func(ctx context.Context, c call) (int, any, error) {
		network, ok := networks.ParseNetwork(c.req.PathParameters["network"])
		if !ok {
			return 0, nil, fault.Param(fault.ErrNotFound, "unknown_network", "network", "No such card network.")
		}
		raw, err := body(c.req)
		if err != nil {
			return 0, nil, err
		}
		msg := tokens.SignedNotification{
			Network: network, Body: raw, Signature: header(c.req, NotificationSignatureHeader),
		}
		if err := h.svc.VerifyNotification(ctx, msg); err != nil {
			return 0, nil, err
		}
		ns, err := networks.ParseNotification(network, raw)
		if err != nil {
			return 0, nil, err
		}
		outcomes, err := h.svc.ApplyNotifications(ctx, network, ns)
		if err != nil {
			return 0, nil, err
		}
		for _, o := range outcomes {
			if o.Outcome == tokens.OutcomeUnknownToken {
				h.log.Warn("notification for an unknown token acknowledged",
					"request_id", c.requestID, "network", network, "reference", o.Reference)
			}
		}
		return http.StatusOK, notificationAck{ResponseID: c.requestID, Outcomes: outcomes}, nil
	})
}

type simulateRequest struct {
	SessionID *string `json:"session_id" required:"true"`
	Event     *string `json:"event" required:"true"`
}

func (r *simulateRequest) validate() error { return nil }

type simulateBody struct {
	Event        string             `json:"event"`
	Notification notificationResult `json:"notification"`
	NetworkToken networkTokenBody   `json:"networkToken"`
}

type notificationResult struct {
	Status   int             `json:"status"`
	Response json.RawMessage `json:"response"`
}

// Simulate serves POST /functions/v1/sandbox/network-tokens/{id}/simulate:
// the sandbox network plays an issuer event, then sends its signed
// notification through the inbound notification handler, as it would over
// the wire. Outside the sandbox stage the route does not exist.
func (h *Handlers) Simulate() Handler {
	return h.wrap("POST /sandbox/network-tokens/{id}/simulate", func(ctx context.Context, c call) (int, any, error) {
		if !h.svc.Sandbox() {
			return 0, nil, errRouteNotFound
		}
		var in simulateRequest
		sess, err := h.sessionFromBody(ctx, c, &in, func() *string { return in.SessionID })
		if err != nil {
			return 0, nil, err
		}
		id := c.req.PathParameters["id"]
		msg, err := h.svc.Simulate(ctx, sess, id, networks.SimulatedEvent(*in.Event))
		if err != nil {
			return 0, nil, err
		}
		resp, _ := h.ReceiveNotification()(ctx, events.APIGatewayV2HTTPRequest{
			Version:  "2.0",
			RouteKey: "POST /functions/v1/network-tokens/notifications/{network}",
			Headers: map[string]string{
				NotificationSignatureHeader: msg.Signature, "content-type": "application/json",
			},
			PathParameters: map[string]string{"network": string(msg.Network)},
			Body:           string(msg.Body),
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: c.requestID + "-notification"},
		})
		nt, err := h.svc.GetNetworkToken(ctx, sess, id)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, simulateBody{
			Event:        *in.Event,
			Notification: notificationResult{Status: resp.StatusCode, Response: json.RawMessage(resp.Body)},
			NetworkToken: networkTokenResponse(nt, nil),
		}, nil
	})
}

var errRouteNotFound = fault.New(fault.ErrNotFound, "route_not_found", "No such route.")

type authorizationRequest struct {
	SessionID      *string `json:"session_id" required:"true"`
	NetworkTokenID *string `json:"network_token_id" required:"true"`
	Cryptogram     *string `json:"cryptogram" required:"true"`
	Amount         *int64  `json:"amount" required:"true"`
	Currency       *string `json:"currency" required:"true"`
}

func (r *authorizationRequest) validate() error { return nil }

type authorizationBody struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	DeclineReason  string `json:"declineReason,omitempty"`
	NetworkTokenID string `json:"networkTokenId"`
	Amount         int64  `json:"amount"`
	Currency       string `json:"currency"`
	CreatedAt      string `json:"createdAt"`
}

// Authorize serves POST /functions/v1/sandbox/authorizations: the sandbox
// network approves or declines a payment made with a network token and its
// cryptogram. A decline is an answer, not an error: 201 either way.
func (h *Handlers) Authorize() Handler {
	return h.wrap("POST /sandbox/authorizations", func(ctx context.Context, c call) (int, any, error) {
		if !h.svc.Sandbox() {
			return 0, nil, errRouteNotFound
		}
		var in authorizationRequest
		sess, err := h.sessionFromBody(ctx, c, &in, func() *string { return in.SessionID })
		if err != nil {
			return 0, nil, err
		}
		a, err := h.svc.Authorize(ctx, sess, tokens.AuthorizationInput{
			NetworkTokenID: *in.NetworkTokenID, Cryptogram: *in.Cryptogram,
			Amount: *in.Amount, Currency: *in.Currency,
		})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, authorizationBody{
			ID: a.ID, Status: a.Status, DeclineReason: a.DeclineReason, NetworkTokenID: a.NetworkTokenID,
			Amount: a.Amount, Currency: a.Currency, CreatedAt: a.CreatedAt,
		}, nil
	})
}
