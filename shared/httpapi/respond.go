package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// errorBody is the one shape every error response has.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Param     string `json:"param,omitempty"`
	RequestID string `json:"requestId"`
}

// retryAfterSeconds is what a 503 tells the caller to wait.
const retryAfterSeconds = "1"

var kindStatus = []struct {
	kind   error
	status int
	code   string
}{
	{fault.ErrInvalid, http.StatusBadRequest, "invalid_request"},
	{fault.ErrUnauthorized, http.StatusUnauthorized, "unauthorized"},
	{fault.ErrNotFound, http.StatusNotFound, "resource_not_found"},
	{fault.ErrConflict, http.StatusConflict, "conflict"},
	{fault.ErrTooLarge, http.StatusRequestEntityTooLarge, "request_too_large"},
	{fault.ErrRefused, http.StatusUnprocessableEntity, "request_refused"},
	{fault.ErrUnavailable, http.StatusServiceUnavailable, "service_unavailable"},
}

// classify maps an error to its status and body. This is the one place
// where errors become HTTP. Internal error text never reaches the body.
func classify(err error, requestID string) (int, errorDetail) {
	var fe *fault.Error
	if errors.As(err, &fe) {
		for _, ks := range kindStatus {
			if errors.Is(fe.Kind, ks.kind) {
				return ks.status, errorDetail{Code: fe.Code, Message: fe.Message, Param: fe.Param, RequestID: requestID}
			}
		}
	}
	if unavailable(err) {
		return http.StatusServiceUnavailable, errorDetail{Code: "service_unavailable",
			Message: "A service we depend on is unavailable; retry shortly.", RequestID: requestID}
	}
	for _, ks := range kindStatus {
		if errors.Is(err, ks.kind) {
			return ks.status, errorDetail{Code: ks.code, Message: messageFor(ks.status), RequestID: requestID}
		}
	}
	return http.StatusInternalServerError, errorDetail{Code: "internal_error",
		Message: "Something went wrong on our side; it has been logged.", RequestID: requestID}
}

func messageFor(status int) string {
	switch status {
	case http.StatusConflict:
		return "The resource was changed by another request; retry."
	case http.StatusServiceUnavailable:
		return "A service we depend on is unavailable; retry shortly."
	default:
		return http.StatusText(status) + "."
	}
}

// unavailable reports whether err is an outage worth retrying: throttling,
// a 5xx from AWS, the SDK giving up after its retries, a timeout or a
// refused connection.
func unavailable(err error) bool {
	if errors.Is(err, fault.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(err, &maxAttempts) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ThrottlingException", "ProvisionedThroughputExceededException",
			"RequestLimitExceeded", "InternalServerError", "ServiceUnavailable",
			"KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException",
			"DisabledException", "KMSInvalidStateException", "LimitExceededException":
			return true
		}
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool()
}

func jsonResponse(status int, v any, requestID string) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal_error",` +
			`"message":"Could not encode the response.","requestId":"` + requestID + `"}}`)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":  "application/json",
			"Cache-Control": "no-store",
			"X-Request-Id":  requestID,
		},
		Body: string(b),
	}
}

func errorResponse(status int, detail errorDetail) events.APIGatewayV2HTTPResponse {
	resp := jsonResponse(status, errorBody{Error: detail}, detail.RequestID)
	if status == http.StatusServiceUnavailable {
		resp.Headers["Retry-After"] = retryAfterSeconds
	}
	return resp
}
