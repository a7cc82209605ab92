package httpapi

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Route is one API route and the handler value that serves it.
type Route struct {
	Method  string
	Path    string // as in template.yaml, e.g. /functions/v1/network-tokens/{id}
	Handler Handler
}

// Routes lists every route of the API with its handler.
func (h *Handlers) Routes() []Route {
	const base = "/functions/v1"
	return []Route{
		{"POST", base + "/sessions", h.CreateSession()},
		{"POST", base + "/tokens", h.CreateCardToken()},
		{"POST", base + "/network-tokens", h.CreateNetworkToken()},
		{"POST", base + "/network-tokens/{id}/cryptogram", h.CreateCryptogram()},
		{"GET", base + "/network-tokens/{id}", h.GetNetworkToken()},
		{"DELETE", base + "/network-tokens/{id}", h.DeleteNetworkToken()},
		{"POST", base + "/network-tokens/{id}/suspend", h.SuspendNetworkToken()},
		{"POST", base + "/network-tokens/{id}/resume", h.ResumeNetworkToken()},
		{"POST", base + "/network-tokens/notifications/{network}", h.ReceiveNotification()},
		{"POST", base + "/sandbox/network-tokens/{id}/simulate", h.Simulate()},
		{"POST", base + "/sandbox/authorizations", h.Authorize()},
		// One function serves the three webhook-endpoint routes.
		{"POST", base + "/webhook-endpoints", h.WebhookEndpoints()},
		{"GET", base + "/webhook-endpoints", h.WebhookEndpoints()},
		{"DELETE", base + "/webhook-endpoints/{id}", h.WebhookEndpoints()},
	}
}

// LocalServer serves the routes over plain HTTP the way API Gateway's HTTP
// API does: each request becomes a payload 2.0 event for the same handler
// value the Lambda function runs. Like API Gateway, the most specific route
// wins: a literal path segment beats a {parameter}. Unknown routes get the
// API's 404 body.
func LocalServer(routes []Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, ok := match(routes, r.Method, r.URL.Path)
		if !ok {
			id := requestID(events.APIGatewayV2HTTPRequest{})
			write(w, errorResponse(http.StatusNotFound, errorDetail{
				Code: "route_not_found", Message: "No route " + r.Method + " " + r.URL.Path + ".", RequestID: id,
			}))
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		if err != nil {
			raw = nil
		}
		resp, _ := route.Handler(r.Context(), toEvent(route, r, params, raw))
		write(w, resp)
	})
}

// match finds the route for a request, preferring the one with the most
// literal segments, and returns its path parameters.
func match(routes []Route, method, path string) (Route, map[string]string, bool) {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	best, bestScore := -1, -1
	var bestParams map[string]string
	for i, route := range routes {
		if route.Method != method {
			continue
		}
		params, score, ok := matchTemplate(route.Path, segments)
		if ok && score > bestScore {
			best, bestScore, bestParams = i, score, params
		}
	}
	if best < 0 {
		return Route{}, nil, false
	}
	return routes[best], bestParams, true
}

func matchTemplate(template string, segments []string) (map[string]string, int, bool) {
	parts := strings.Split(strings.Trim(template, "/"), "/")
	if len(parts) != len(segments) {
		return nil, 0, false
	}
	params, literals := map[string]string{}, 0
	for i, p := range parts {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segments[i] == "" {
				return nil, 0, false
			}
			params[p[1:len(p)-1]] = segments[i]
			continue
		}
		if p != segments[i] {
			return nil, 0, false
		}
		literals++
	}
	return params, literals, true
}

// toEvent builds the payload 2.0 event API Gateway would send for r.
func toEvent(route Route, r *http.Request, params map[string]string, raw []byte) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for name, values := range r.Header {
		headers[strings.ToLower(name)] = strings.Join(values, ",")
	}
	query := map[string]string{}
	for name, values := range r.URL.Query() {
		query[name] = strings.Join(values, ",")
	}
	if len(params) == 0 {
		params = nil
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              route.Method + " " + route.Path,
		RawPath:               r.URL.Path,
		RawQueryString:        r.URL.RawQuery,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req_" + randomRequestID(),
			Stage:     "$default",
			TimeEpoch: time.Now().UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: r.RemoteAddr,
			},
		},
	}
	if utf8.Valid(raw) {
		ev.Body = string(raw)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(raw), true
	}
	return ev
}

func write(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.WriteString(w, resp.Body)
}
