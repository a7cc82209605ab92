package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/app"
	"github.com/atlas-network-tokens/atlas/shared/devstack"
	"github.com/atlas-network-tokens/atlas/shared/httpapi"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/publish"
)

// harness is the whole service on the in-process dev stack, with a log
// buffer and a recorded event stream to inspect.
type harness struct {
	t      *testing.T
	app    *app.App
	stack  *devstack.Stack
	logs   *syncBuffer
	events *syncBuffer
	key    string
	now    time.Time
	mu     sync.Mutex
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	stack, err := devstack.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("starting dev stack: %v", err)
	}
	t.Cleanup(func() { stack.Close() })

	h := &harness{t: t, stack: stack, logs: &syncBuffer{}, events: &syncBuffer{}, now: time.Now().UTC()}
	pub, err := publish.NewJSONLines(h.events)
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{Table: stack.Table, KeyID: stack.KeyID, EventBus: "unused", Stage: app.StageSandbox}
	b := app.Backends{DynamoDB: stack.DynamoDB, KMS: stack.KMS, Publisher: pub}
	h.app = app.New(cfg, b, logging.New(h.logs, "debug"), app.Options{Now: h.clock})
	h.key = "sk_test_" + strings.Repeat("ab", 24)
	if err := h.app.Service.RegisterMerchantKey(ctx, "mer_test", h.key); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// call invokes a route handler the way API Gateway would.
func (h *harness) call(handler httpapi.Handler, method, path, auth string, pathID string, query map[string]string, body string) (int, map[string]any) {
	h.t.Helper()
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: path, Body: body,
		Headers:               map[string]string{"content-type": "application/json"},
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-test",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
	if auth != "" {
		req.Headers["authorization"] = auth
	}
	if pathID != "" {
		req.PathParameters = map[string]string{"id": pathID}
	}
	resp, err := handler(context.Background(), req)
	if err != nil {
		h.t.Fatalf("%s %s returned a Go error: %v", method, path, err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		h.t.Fatalf("%s %s: body is not JSON: %q", method, path, resp.Body)
	}
	if resp.StatusCode >= 400 {
		checkErrorBody(h.t, resp.StatusCode, out)
	}
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Headers["Retry-After"] == "" {
		h.t.Errorf("503 without Retry-After")
	}
	return resp.StatusCode, out
}

func checkErrorBody(t *testing.T, status int, body map[string]any) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("status %d without error object: %v", status, body)
	}
	for _, field := range []string{"code", "message", "requestId"} {
		if s, _ := e[field].(string); s == "" {
			t.Errorf("status %d error body lacks %s: %v", status, field, body)
		}
	}
}

var _ = io.Discard
