package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/logging"
)

func TestClassify(t *testing.T) {
	const secretText = "table atlas: PAN 4242424242424242 at 10.0.0.1"
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: secretText}
	aws500 := &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}},
		Err:      errors.New(secretText),
	}
	slow := secretText
	cases := []struct {
		name        string
		err         error
		status      int
		code, param string
	}{
		{"invalid", fault.Param(fault.ErrInvalid, "invalid_x", "x", "X is bad."), 400, "invalid_x", "x"},
		{"unauthorized", fault.New(fault.ErrUnauthorized, "invalid_session", "No."),
			401, "invalid_session", ""},
		{"not found", fault.Param(fault.ErrNotFound, "resource_not_found", "id", "No such."),
			404, "resource_not_found", "id"},
		{"conflict", fault.New(fault.ErrConflict, "token_not_active", "Not active."),
			409, "token_not_active", ""},
		{"too large", fault.New(fault.ErrTooLarge, "request_too_large", "Big."),
			413, "request_too_large", ""},
		{"refused", fault.New(fault.ErrRefused, "network_declined", "Declined."),
			422, "network_declined", ""},
		{"unavailable", fault.New(fault.ErrUnavailable, "network_unavailable", "Later."),
			503, "network_unavailable", ""},
		{"wrapped fault", fmt.Errorf("%s: %w", secretText,
			fault.New(fault.ErrRefused, "card_expired", "Expired.")), 422, "card_expired", ""},
		{"bare conflict sentinel", fmt.Errorf("%s: %w", secretText, fault.ErrConflict),
			409, "conflict", ""},
		{"bare not-found sentinel", fmt.Errorf("%s: %w", secretText, fault.ErrNotFound),
			404, "resource_not_found", ""},
		{"throttling", fmt.Errorf("putting item: %w", throttled), 503, "service_unavailable", ""},
		{"provisioned throughput", &types.ProvisionedThroughputExceededException{Message: &slow},
			503, "service_unavailable", ""},
		{"KMS internal", &smithy.GenericAPIError{Code: "KMSInternalException", Message: secretText},
			503, "service_unavailable", ""},
		{"deadline", fmt.Errorf("%s: %w", secretText, context.DeadlineExceeded),
			503, "service_unavailable", ""},
		{"retries exhausted", &retry.MaxAttemptsError{Attempt: 3, Err: errors.New(secretText)},
			503, "service_unavailable", ""},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New(secretText)},
			503, "service_unavailable", ""},
		{"AWS 500", aws500, 503, "service_unavailable", ""},
		{"unknown", errors.New(secretText), 500, "internal_error", ""},
		{"wrapped unknown", fmt.Errorf("sealing: %w", errors.New(secretText)), 500, "internal_error", ""},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: secretText},
			500, "internal_error", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, d := classify(c.err, "req_1")
			if status != c.status || d.Code != c.code || d.Param != c.param || d.RequestID != "req_1" {
				t.Fatalf("got %d %+v, want %d %s param=%q", status, d, c.status, c.code, c.param)
			}
			var fe *fault.Error
			if errors.As(c.err, &fe) && d.Message != fe.Message {
				t.Errorf("message %q, want the fault's %q", d.Message, fe.Message)
			}
			if d.Message == "" || strings.Contains(d.Message, secretText) {
				t.Errorf("message %q is empty or carries the internal error text", d.Message)
			}
		})
	}
}

func TestErrorResponse(t *testing.T) {
	throttled := fmt.Errorf("querying: %w", &smithy.GenericAPIError{Code: "ThrottlingException"})
	cases := []struct {
		name       string
		err        error
		status     int
		retryAfter bool
	}{
		{"throttling", throttled, 503, true},
		{"unavailable fault", fault.New(fault.ErrUnavailable, "x", "Later."), 503, true},
		{"refused", fault.New(fault.ErrRefused, "x", "No."), 422, false},
		{"internal", errors.New("boom 5555555555554444"), 500, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := errorResponse(classify(c.err, "req_2"))
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if got := resp.Headers["Retry-After"]; (got != "") != c.retryAfter {
				t.Errorf("Retry-After %q, want present=%v", got, c.retryAfter)
			}
			if resp.Headers["Content-Type"] != "application/json" || resp.Headers["X-Request-Id"] != "req_2" {
				t.Errorf("headers %v", resp.Headers)
			}
			var body map[string]map[string]string
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body["error"]["requestId"] != "req_2" {
				t.Fatalf("body %s: %v", resp.Body, err)
			}
			if strings.Contains(resp.Body, "5555555555554444") {
				t.Errorf("the body carries the error text: %s", resp.Body)
			}
		})
	}
}

// TestWrapRecoversPanics: a panicking endpoint is a 500 with the error
// body, a nil Go error, and a log line without the panic's value.
func TestWrapRecoversPanics(t *testing.T) {
	var logs bytes.Buffer
	h := &Handlers{log: logging.New(&logs, "debug")}
	cases := []struct {
		name string
		fn   endpoint
		want int
	}{
		{"panic", func(context.Context, call) (int, any, error) {
			panic("card 4242424242424242 cs_secret")
		}, 500},
		{"error", func(context.Context, call) (int, any, error) {
			return 0, nil, errors.New("cs_secret 4242424242424242")
		}, 500},
		{"unencodable body", func(context.Context, call) (int, any, error) {
			return 200, map[string]any{"f": func() {}}, nil
		}, 500},
		{"fine", func(context.Context, call) (int, any, error) {
			return 201, map[string]string{"ok": "1"}, nil
		}, 201},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := events.APIGatewayV2HTTPRequest{
				RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r"},
			}
			resp, err := h.wrap("TEST", c.fn)(context.Background(), req)
			if err != nil {
				t.Fatalf("Go error %v", err)
			}
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.want, resp.Body)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			if c.want >= 500 {
				e, _ := body["error"].(map[string]any)
				if e["code"] != "internal_error" || e["requestId"] != "r" {
					t.Errorf("body %s", resp.Body)
				}
			}
			if strings.Contains(resp.Body, "cs_secret") || strings.Contains(resp.Body, "4242424242424242") {
				t.Errorf("body carries the failure's text: %s", resp.Body)
			}
		})
	}
	if strings.Contains(logs.String(), "4242424242424242") || !strings.Contains(logs.String(), "panic(") {
		t.Errorf("logs hold the PAN, or no stack was logged:\n%s", logs.String())
	}
	if strings.Count(logs.String(), `"msg":"request"`) != len(cases) {
		t.Errorf("want one request line per call:\n%s", logs.String())
	}
}
