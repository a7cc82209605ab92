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
	}
}

// LocalServer serves the routes over plain HTTP the way API Gateway's HTTP
// API does: each request becomes a payload 2.0 event for the same handler
// value the Lambda function runs. Unknown routes get the API's 404 body.
func LocalServer(routes []Route) http.Handler {
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.Handle(r.Method+" "+r.Path, adapt(r))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		id := requestID(events.APIGatewayV2HTTPRequest{})
		write(w, errorResponse(http.StatusNotFound, errorDetail{
			Code: "route_not_found", Message: "No route " + req.Method + " " + req.URL.Path + ".", RequestID: id,
		}))
	})
	return mux
}

func adapt(route Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		if err != nil {
			raw = nil
		}
		resp, _ := route.Handler(r.Context(), toEvent(route, r, raw))
		write(w, resp)
	})
}

// toEvent builds the payload 2.0 event API Gateway would send for r.
func toEvent(route Route, r *http.Request, raw []byte) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for name, values := range r.Header {
		headers[strings.ToLower(name)] = strings.Join(values, ",")
	}
	query := map[string]string{}
	for name, values := range r.URL.Query() {
		query[name] = strings.Join(values, ",")
	}
	var params map[string]string
	if id := r.PathValue("id"); id != "" {
		params = map[string]string{"id": id}
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
