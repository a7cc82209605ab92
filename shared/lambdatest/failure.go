package lambdatest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// FunctionError is an invocation that produced no response: the handler
// returned an error or panicked, the runtime crashed or timed out, or the
// emulator itself failed.
type FunctionError struct {
	Status  int    // the emulator's HTTP status: 200 for a returned error, 502 for a crash
	Type    string // errorType as the runtime reported it, if it did
	Message string // errorMessage, or the emulator's whole reply when there is none
}

func (e *FunctionError) Error() string {
	if e.Type != "" {
		return fmt.Sprintf("function failed (HTTP %d): %s: %s", e.Status, e.Type, e.Message)
	}
	return fmt.Sprintf("function failed (HTTP %d): %s", e.Status, e.Message)
}

// functionError reads a failure out of an emulator reply, or returns nil
// for a response payload. A Lambda error payload is a JSON object with
// errorMessage and errorType; no successful API Gateway response has either
// at its top level.
func functionError(resp *http.Response, body []byte) *FunctionError {
	var fields struct {
		Message *string `json:"errorMessage"`
		Type    *string `json:"errorType"`
	}
	_ = json.Unmarshal(body, &fields) // a body that is no JSON object has neither field

	failed := resp.StatusCode != http.StatusOK ||
		resp.Header.Get("X-Amz-Function-Error") != "" ||
		fields.Message != nil || fields.Type != nil
	if !failed {
		return nil
	}

	ferr := &FunctionError{Status: resp.StatusCode, Message: string(body)}
	if fields.Message != nil {
		ferr.Message = *fields.Message
	}
	if fields.Type != nil {
		ferr.Type = *fields.Type
	}
	return ferr
}
