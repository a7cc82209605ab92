package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/atlas-network-tokens/atlas/shared/apitest"
	"github.com/atlas-network-tokens/atlas/shared/app"
	"github.com/atlas-network-tokens/atlas/shared/devstack"
	"github.com/atlas-network-tokens/atlas/shared/httpapi"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/publish"
)

// harness is the whole service on the in-process dev stack, with a log
// buffer and a recorded event stream to inspect.
type harness struct {
	t      testing.TB
	app    *app.App
	stack  *devstack.Stack
	logs   *apitest.Buffer
	events *apitest.Buffer
	key    string
	now    time.Time
	mu     sync.Mutex
}

// merchantID is the merchant whose secret key is h.key.
const merchantID = "mer_test"

// newHarness starts a dev stack and wires the App on it. The clock starts at
// the current time, truncated to the second so that timestamps in responses
// can be compared exactly.
func newHarness(t testing.TB) *harness {
	t.Helper()
	ctx := context.Background()
	stack, err := devstack.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("starting dev stack: %v", err)
	}
	// The KMS client gets its own transport so that cleanup can drop its
	// idle connections first: local KMS's graceful shutdown otherwise waits
	// five seconds for connections a burst of concurrent calls opened but
	// never used.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	kmsClient := kms.New(stack.KMS.Options(), func(o *kms.Options) {
		o.HTTPClient = &http.Client{Transport: transport}
	})
	t.Cleanup(func() {
		transport.CloseIdleConnections()
		stack.Close()
	})

	h := &harness{
		t: t, stack: stack, logs: &apitest.Buffer{}, events: &apitest.Buffer{},
		now: time.Now().UTC().Truncate(time.Second),
	}
	pub, err := publish.NewJSONLines(h.events)
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{Table: stack.Table, KeyID: stack.KeyID, EventBus: "unused", Stage: app.StageSandbox}
	b := app.Backends{DynamoDB: stack.DynamoDB, KMS: kmsClient, Publisher: pub}
	h.app = app.New(cfg, b, logging.New(h.logs, "debug"), app.Options{Now: h.clock})
	h.key = h.merchantKey(merchantID)
	return h
}

// merchantKey registers a fresh secret key for a merchant and returns it.
func (h *harness) merchantKey(merchant string) string {
	h.t.Helper()
	key := "sk_test_" + randomHex(24)
	if err := h.app.Service.RegisterMerchantKey(context.Background(), merchant, key); err != nil {
		h.t.Fatal(err)
	}
	return key
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

// request builds the payload 2.0 event API Gateway would send.
func request(method, path, auth, pathID string, query map[string]string,
	body string) events.APIGatewayV2HTTPRequest {
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
	return req
}

// call invokes a route handler the way API Gateway would.
func (h *harness) call(handler httpapi.Handler, method, path, auth string, pathID string,
	query map[string]string, body string) (int, map[string]any) {
	h.t.Helper()
	resp := h.invoke(handler, request(method, path, auth, pathID, query, body))
	out, err := checkResponse(resp)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// invoke runs a handler and fails the test if it returned a Go error.
func (h *harness) invoke(handler httpapi.Handler,
	req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	h.t.Helper()
	resp, err := handler(context.Background(), req)
	if err != nil {
		h.t.Fatalf("%s %s returned a Go error: %v", req.RequestContext.HTTP.Method, req.RawPath, err)
	}
	return resp
}

// checkResponse decodes a response body and checks what every response
// must satisfy: JSON; every 4xx and 5xx carries the one error body; a 503
// says when to retry. It is safe to call from any goroutine.
func checkResponse(resp events.APIGatewayV2HTTPResponse) (map[string]any, error) {
	var out map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		return nil, fmt.Errorf("status %d: body is not a JSON object: %q", resp.StatusCode, resp.Body)
	}
	if resp.StatusCode >= 400 {
		if err := errorBodyProblem(out); err != nil {
			return nil, fmt.Errorf("status %d: %w: %s", resp.StatusCode, err, resp.Body)
		}
	}
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Headers["Retry-After"] == "" {
		return nil, fmt.Errorf("503 without Retry-After")
	}
	return out, nil
}

// errorBodyProblem reports how body departs from
// {"error":{"code","message","param"?,"requestId"}}.
func errorBodyProblem(body map[string]any) error {
	if len(body) != 1 {
		return fmt.Errorf("error body has top-level keys besides error")
	}
	e, ok := body["error"].(map[string]any)
	if !ok {
		return fmt.Errorf("no error object")
	}
	for _, field := range []string{"code", "message", "requestId"} {
		if s, _ := e[field].(string); s == "" {
			return fmt.Errorf("error body lacks %s", field)
		}
	}
	for k, v := range e {
		switch k {
		case "code", "message", "requestId":
		case "param":
			if s, _ := v.(string); s == "" {
				return fmt.Errorf("param present but not a non-empty string")
			}
		default:
			return fmt.Errorf("unexpected error field %q", k)
		}
	}
	return nil
}

func checkErrorBody(t testing.TB, status int, body map[string]any) {
	t.Helper()
	if err := errorBodyProblem(body); err != nil {
		t.Fatalf("status %d: %v: %v", status, err, body)
	}
}

// errorOf returns the code and param of an error body.
func errorOf(body map[string]any) (code, param string) {
	e, _ := body["error"].(map[string]any)
	code, _ = e["code"].(string)
	param, _ = e["param"].(string)
	return code, param
}

// Route paths as API Gateway reports them.
const (
	pathSessions      = "/functions/v1/sessions"
	pathTokens        = "/functions/v1/tokens"
	pathNetworkTokens = "/functions/v1/network-tokens"
)

func ntPath(id string) string { return pathNetworkTokens + "/" + id }

// session is a created payment session: its id and Authorization header.
type session struct {
	id   string
	auth string
}

// newSession creates a session with a merchant key for a customer ("" for
// none).
func (h *harness) newSession(key, customer string) session {
	h.t.Helper()
	body := `{}`
	if customer != "" {
		body = `{"customer_id":` + quote(customer) + `}`
	}
	st, out := h.call(h.app.Handlers.CreateSession(), "POST", pathSessions, "Bearer "+key, "", nil, body)
	if st != http.StatusCreated {
		h.t.Fatalf("creating session: %d %v", st, out)
	}
	return session{id: str(out, "id"), auth: "Bearer " + str(out, "clientSecret")}
}

// cardBody is a POST /tokens body.
func cardBody(sessionID, number string, month, year int) string {
	return fmt.Sprintf(`{"session_id":%s,"card":{"number":%s,"exp_month":%d,"exp_year":%d}}`,
		quote(sessionID), quote(number), month, year)
}

// tokenize stores a card, expiring in two years, and returns its token id.
func (h *harness) tokenize(s session, number string) string {
	h.t.Helper()
	body := cardBody(s.id, number, 12, h.clock().Year()+2)
	st, out := h.call(h.app.Handlers.CreateCardToken(), "POST", pathTokens, s.auth, "", nil, body)
	if st != http.StatusCreated {
		h.t.Fatalf("tokenizing %s: %d %v", last4(number), st, out)
	}
	return str(out, "id")
}

func provisionBody(sessionID, cardID string, cryptogram bool) string {
	return fmt.Sprintf(`{"session_id":%s,"token_id":%s,"request_cryptogram":%t}`,
		quote(sessionID), quote(cardID), cryptogram)
}

func (h *harness) provision(s session, cardID string, cryptogram bool) (int, map[string]any) {
	h.t.Helper()
	return h.call(h.app.Handlers.CreateNetworkToken(), "POST", pathNetworkTokens, s.auth, "", nil,
		provisionBody(s.id, cardID, cryptogram))
}

// networkToken provisions a token for a fresh card token of number.
func (h *harness) networkToken(s session, number string) string {
	h.t.Helper()
	st, out := h.provision(s, h.tokenize(s, number), false)
	if st != http.StatusCreated {
		h.t.Fatalf("provisioning %s: %d %v", last4(number), st, out)
	}
	return str(out, "networkTokenId")
}

func (h *harness) cryptogram(s session, ntID string) (int, map[string]any) {
	h.t.Helper()
	return h.call(h.app.Handlers.CreateCryptogram(), "POST", ntPath(ntID)+"/cryptogram", s.auth, ntID,
		nil, `{"session_id":`+quote(s.id)+`}`)
}

func (h *harness) get(s session, ntID string) (int, map[string]any) {
	h.t.Helper()
	return h.call(h.app.Handlers.GetNetworkToken(), "GET", ntPath(ntID), s.auth, ntID,
		map[string]string{"session_id": s.id}, "")
}

func (h *harness) delete(s session, ntID string) (int, map[string]any) {
	h.t.Helper()
	return h.call(h.app.Handlers.DeleteNetworkToken(), "DELETE", ntPath(ntID), s.auth, ntID,
		map[string]string{"session_id": s.id}, "")
}

// sweep publishes the outbox and returns every event published so far.
func (h *harness) sweep() []publish.Event {
	h.t.Helper()
	if _, err := h.app.Relay.Sweep(context.Background()); err != nil {
		h.t.Fatalf("relay sweep: %v", err)
	}
	var evs []publish.Event
	for _, line := range strings.Split(strings.TrimSpace(h.events.String()), "\n") {
		if line == "" {
			continue
		}
		var raw json.RawMessage
		ev := publish.Event{Data: &raw}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			h.t.Fatalf("event line is not JSON: %q", line)
		}
		ev.Data = raw
		evs = append(evs, ev)
	}
	return evs
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// str returns a string field of a decoded body, or "".
func str(body map[string]any, field string) string {
	s, _ := body[field].(string)
	return s
}

func last4(number string) string {
	if len(number) < 4 {
		return number
	}
	return "…" + number[len(number)-4:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var (
	idPattern = func(prefix string) *regexp.Regexp {
		return regexp.MustCompile(`^` + prefix + `[0-9a-f]{32}$`)
	}
	sessionIDPattern      = idPattern("sess_")
	cardTokenIDPattern    = idPattern("tok_card_")
	networkTokenIDPattern = idPattern("nt_")
	eventIDPattern        = idPattern("evt_")
	clientSecretPattern   = regexp.MustCompile(`^cs_[0-9a-f]{64}$`)
)
