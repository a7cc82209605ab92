package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/tokens"
	"github.com/atlas-network-tokens/atlas/shared/webhook"
)

// WithWebhooks lets the handlers serve the webhook-endpoint routes from
// reg, and returns h. Without it those routes answer 503.
func (h *Handlers) WithWebhooks(reg *webhook.Registry) *Handlers {
	h.webhooks = reg
	return h
}

// WebhookEndpoints serves every webhook-endpoint route from one Lambda
// function, choosing by method: POST registers, GET lists, DELETE removes.
func (h *Handlers) WebhookEndpoints() Handler {
	create, list, del := h.CreateWebhookEndpoint(), h.ListWebhookEndpoints(), h.DeleteWebhookEndpoint()
	notAllowed := h.wrap("webhook-endpoints", func(context.Context, call) (int, any, error) {
		return 0, nil, fault.New(fault.ErrNotFound, "route_not_found", "No such route.")
	})
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (
		events.APIGatewayV2HTTPResponse, error) {
		_, hasID := req.PathParameters["id"]
		switch method := req.RequestContext.HTTP.Method; {
		case method == http.MethodPost && !hasID:
			return create(ctx, req)
		case method == http.MethodGet && !hasID:
			return list(ctx, req)
		case method == http.MethodDelete && hasID:
			return del(ctx, req)
		}
		return notAllowed(ctx, req)
	}
}

// CreateWebhookEndpoint serves POST /functions/v1/webhook-endpoints.
func (h *Handlers) CreateWebhookEndpoint() Handler {
	return h.wrap("POST /webhook-endpoints", func(ctx context.Context, c call) (int, any, error) {
		merchantID, err := h.webhookMerchant(ctx, c)
		if err != nil {
			return 0, nil, err
		}
		var in createWebhookEndpointRequest
		if err := decodeBody(c.req, &in); err != nil {
			return 0, nil, err
		}
		ep, signing, err := h.webhooks.Register(ctx, merchantID, *in.URL, in.types())
		if err != nil {
			return 0, nil, err
		}
		body := webhookEndpointResponse(ep)
		body.Secret = signing.Reveal()
		return http.StatusCreated, body, nil
	})
}

// ListWebhookEndpoints serves GET /functions/v1/webhook-endpoints. Secrets
// are not part of the answer.
func (h *Handlers) ListWebhookEndpoints() Handler {
	return h.wrap("GET /webhook-endpoints", func(ctx context.Context, c call) (int, any, error) {
		merchantID, err := h.webhookMerchant(ctx, c)
		if err != nil {
			return 0, nil, err
		}
		for name := range c.req.QueryStringParameters {
			return 0, nil, fault.Param(fault.ErrInvalid, "unknown_parameter", name,
				"Unknown parameter: "+name+".")
		}
		eps, err := h.webhooks.List(ctx, merchantID)
		if err != nil {
			return 0, nil, err
		}
		out := webhookEndpointList{Data: make([]webhookEndpointBody, 0, len(eps))}
		for _, ep := range eps {
			out.Data = append(out.Data, webhookEndpointResponse(ep))
		}
		return http.StatusOK, out, nil
	})
}

// DeleteWebhookEndpoint serves DELETE /functions/v1/webhook-endpoints/{id}.
func (h *Handlers) DeleteWebhookEndpoint() Handler {
	return h.wrap("DELETE /webhook-endpoints/{id}", func(ctx context.Context, c call) (int, any, error) {
		merchantID, err := h.webhookMerchant(ctx, c)
		if err != nil {
			return 0, nil, err
		}
		id := c.req.PathParameters["id"]
		if err := h.webhooks.Delete(ctx, merchantID, id); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, deletedBody{ID: id, Deleted: true}, nil
	})
}

// webhookMerchant authenticates the merchant secret key the webhook routes
// take.
func (h *Handlers) webhookMerchant(ctx context.Context, c call) (string, error) {
	if h.webhooks == nil {
		return "", fault.New(fault.ErrUnavailable, "webhooks_unavailable",
			"Webhooks are not configured for this deployment.")
	}
	key, err := bearer(c.req, tokens.PrefixSecretKey)
	if err != nil {
		return "", err
	}
	return h.svc.AuthenticateMerchant(ctx, key)
}

type createWebhookEndpointRequest struct {
	URL    *string   `json:"url" required:"true"`
	Events *[]string `json:"events"`
}

// validate has nothing to add: the registry checks the URL and the event
// types, where the rules live.
func (r *createWebhookEndpointRequest) validate() error { return nil }

func (r *createWebhookEndpointRequest) types() []publish.Type {
	var out []publish.Type
	for _, e := range deref(r.Events) {
		out = append(out, publish.Type(e))
	}
	return out
}

type webhookEndpointBody struct {
	ID        string   `json:"id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"` // empty: every type
	Secret    string   `json:"secret,omitempty"`
	CreatedAt string   `json:"createdAt"`
}

type webhookEndpointList struct {
	Data []webhookEndpointBody `json:"data"`
}

type deletedBody struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

func webhookEndpointResponse(ep webhook.Endpoint) webhookEndpointBody {
	b := webhookEndpointBody{ID: ep.ID, URL: ep.URL, Events: make([]string, 0, len(ep.Events)),
		CreatedAt: ep.CreatedAt.UTC().Format(time.RFC3339)}
	for _, t := range ep.Events {
		b.Events = append(b.Events, string(t))
	}
	return b
}
