// Package awsfault makes AWS calls fail on purpose, for tests of what the
// service does when DynamoDB, KMS or EventBridge misbehave.
//
// A Transport is the http.RoundTripper of an SDK client's HTTP client. It
// names each request by the operation in its X-Amz-Target header (the AWS
// JSON protocols of DynamoDB, KMS and EventBridge all send one) and, for the
// operations a test chose with Inject, answers with the error response the
// service would send, runs a hook first, or passes the request on and edits
// the service's answer. Every other request goes to the emulator untouched.
//
// Give the client RetryMaxAttempts = 1 (or a small number) so that an
// injected throttle is not retried for seconds by the SDK:
//
//	faults := awsfault.New(nil)
//	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
//		o.HTTPClient = faults.Client()
//		o.RetryMaxAttempts = 1
//	})
//	faults.Inject(awsfault.Error("TransactWriteItems", 400,
//		"ProvisionedThroughputExceededException", "slow down"))
//
// The Transport does not understand the query or REST protocols (SQS's old
// query API, S3); requests without X-Amz-Target are always passed on.
package awsfault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Fault says how to disturb one operation. Build it with Error, Before or
// Rewrite; set Times to limit how often it fires.
type Fault struct {
	// Operation is the API operation name, e.g. "PutItem",
	// "GenerateDataKey", "PutEvents".
	Operation string

	// Times is how many matching requests the fault takes; 0 means every
	// one until Clear.
	Times int

	// Status, Code and Message make the injected error response. A zero
	// Status means no error is injected.
	Status  int
	Code    string
	Message string

	// Fields are further members of the error body, such as DynamoDB's
	// CancellationReasons of a TransactionCanceledException.
	Fields map[string]any

	// BeforeFunc, when set, runs before a matching request is passed on:
	// a concurrent writer, say. The fault is used up before it runs, so the
	// hook may call the same operation through the same Transport.
	BeforeFunc func()

	// RewriteFunc, when set, edits the body of the service's successful
	// (2xx) answer to a matching request.
	RewriteFunc func(body []byte) ([]byte, error)
}

// Error is a fault that answers op with an AWS JSON error response: status
// (400 for throttling and client errors, 500 or 503 for server errors), the
// error code the SDK turns into its typed error, and message.
func Error(op string, status int, code, message string) Fault {
	return Fault{Operation: op, Status: status, Code: code, Message: message}
}

// Cancelled is a fault that cancels a DynamoDB transaction (op
// TransactWriteItems) with one reason code per item, as DynamoDB does:
// "None", "ConditionalCheckFailed", "TransactionConflict", ….
func Cancelled(reasons ...string) Fault {
	list := make([]map[string]string, len(reasons))
	for i, code := range reasons {
		list[i] = map[string]string{"Code": code}
	}
	return Fault{Operation: "TransactWriteItems", Status: 400,
		Code:    "TransactionCanceledException",
		Message: "Transaction cancelled, please refer cancellation reasons for specific reasons",
		Fields:  map[string]any{"CancellationReasons": list}}
}

// Before is a fault that runs hook once before op is passed on.
func Before(op string, hook func()) Fault {
	return Fault{Operation: op, Times: 1, BeforeFunc: hook}
}

// Rewrite is a fault that passes op on and edits the service's answer.
func Rewrite(op string, edit func(body []byte) ([]byte, error)) Fault {
	return Fault{Operation: op, RewriteFunc: edit}
}

// Once returns f limited to the next matching request.
func (f Fault) Once() Fault {
	f.Times = 1
	return f
}

// Transport injects faults into AWS JSON-protocol requests. Its zero value
// is not usable; call New. It is safe for concurrent use.
type Transport struct {
	base http.RoundTripper

	mu       sync.Mutex
	faults   []*armed
	seen     map[string]int
	injected map[string]int
}

type armed struct {
	Fault
	left int // requests left to take; -1 means unlimited
}

// New returns a Transport that sends passed-on requests through base, or
// through a clone of http.DefaultTransport when base is nil.
func New(base http.RoundTripper) *Transport {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &Transport{base: base, seen: map[string]int{}, injected: map[string]int{}}
}

// Client returns an HTTP client that uses t, for an SDK client's
// HTTPClient option.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

// CloseIdleConnections closes the idle connections of the base transport,
// so that a server the test stops need not wait for them.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// Inject arms f. Faults on one operation fire in the order injected; a
// fault that is used up stops matching.
func (t *Transport) Inject(f Fault) {
	if f.Operation == "" {
		panic("awsfault: Inject with no operation") // a test's own mistake
	}
	left := f.Times
	if left <= 0 {
		left = -1
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults = append(t.faults, &armed{Fault: f, left: left})
}

// Clear disarms every fault; requests pass untouched from now on.
func (t *Transport) Clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults = nil
}

// Seen returns how many requests for op went through t, faulted or not.
func (t *Transport) Seen(op string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seen[op]
}

// Injected returns how many requests for op a fault took.
func (t *Transport) Injected(op string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.injected[op]
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := Operation(req)
	f := t.take(op)
	if f == nil {
		return t.base.RoundTrip(req)
	}

	if f.Status != 0 {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return errorResponse(req, f.Fault), nil
	}
	if f.BeforeFunc != nil {
		f.BeforeFunc()
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || f.RewriteFunc == nil || resp.StatusCode/100 != 2 {
		return resp, err
	}
	return rewritten(resp, f.RewriteFunc)
}

// take counts a request for op and returns the first armed fault for it,
// using one of its turns, or nil.
func (t *Transport) take(op string) *armed {
	t.mu.Lock()
	defer t.mu.Unlock()
	if op == "" {
		return nil
	}
	t.seen[op]++
	for i, f := range t.faults {
		if f.Operation != op || f.left == 0 {
			continue
		}
		if f.left > 0 {
			f.left--
		}
		if f.left == 0 {
			t.faults = append(t.faults[:i:i], t.faults[i+1:]...)
		}
		t.injected[op]++
		return f
	}
	return nil
}

// Operation returns the API operation of an AWS JSON-protocol request, from
// its X-Amz-Target header ("DynamoDB_20120810.PutItem" gives "PutItem"), or
// "" when there is none.
func Operation(req *http.Request) string {
	target := req.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(target, '.'); i >= 0 {
		return target[i+1:]
	}
	return target
}

func errorResponse(req *http.Request, f Fault) *http.Response {
	fields := map[string]any{}
	for k, v := range f.Fields {
		fields[k] = v
	}
	fields["__type"], fields["message"] = f.Code, f.Message
	body, err := json.Marshal(fields)
	if err != nil { // a test's own mistake: a field JSON cannot hold
		panic("awsfault: encoding error body: " + err.Error())
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Errortype", f.Code)
	h.Set("X-Amzn-Requestid", "awsfault-injected")
	return &http.Response{
		Status:        strconv.Itoa(f.Status) + " " + http.StatusText(f.Status),
		StatusCode:    f.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

func rewritten(resp *http.Response, edit func([]byte) ([]byte, error)) (*http.Response, error) {
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("awsfault: reading answer: %w", err)
	}
	if body, err = edit(body); err != nil {
		return nil, fmt.Errorf("awsfault: rewriting answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	// A checksum of the original body would no longer match.
	resp.Header.Del("X-Amz-Crc32")
	return resp, nil
}

// RejectEntries returns an edit for a PutEvents answer that marks the first
// n entries rejected with code and message, as EventBridge does when it
// throttles part of a batch (FailedEntryCount > 0, the request itself
// succeeding). The entries did reach the bus, so this models a partial
// failure whose retry delivers duplicates.
func RejectEntries(n int, code, message string) func([]byte) ([]byte, error) {
	return func(body []byte) ([]byte, error) {
		var out map[string]any
		if err := json.Unmarshal(body, &out); err != nil {
			return nil, err
		}
		entries, _ := out["Entries"].([]any)
		if len(entries) == 0 {
			return nil, errors.New("PutEvents answer has no entries")
		}
		rejected := min(n, len(entries))
		for i := range rejected {
			entries[i] = map[string]any{"ErrorCode": code, "ErrorMessage": message}
		}
		out["FailedEntryCount"] = rejected
		return json.Marshal(out)
	}
}
