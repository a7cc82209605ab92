package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/apitest"
	"github.com/atlas-network-tokens/atlas/shared/app"
	"github.com/atlas-network-tokens/atlas/shared/devstack"
	"github.com/atlas-network-tokens/atlas/shared/httpapi"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/webhook"
)

const (
	merchantKey = "sk_test_efefefefefefefefefefefefefefefefefefefefefefefef"
	otherKey    = "sk_test_0101010101010101010101010101010101010101010101"
)

var (
	endpointIDPattern = regexp.MustCompile(`^we_[0-9a-f]{32}$`)
	secretPattern     = regexp.MustCompile(`^whsec_[0-9a-f]{64}$`)
)

// webhookApp is the App on the dev stack; local says whether it delivers
// in process (and so takes loopback URLs in the sandbox).
type webhookApp struct {
	t     *testing.T
	app   *app.App
	stack *devstack.Stack
	logs  *apitest.Buffer
}

func newWebhookApp(t *testing.T, stage string, local bool) *webhookApp {
	t.Helper()
	ctx := context.Background()
	stack, err := devstack.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("starting dev stack: %v", err)
	}
	t.Cleanup(func() { stack.Close() })
	pub, err := publish.NewJSONLines(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	w := &webhookApp{t: t, stack: stack, logs: &apitest.Buffer{}}
	opts := app.Options{}
	if local {
		opts.LocalWebhooks = &webhook.DispatcherConfig{BaseDelay: time.Millisecond}
	}
	cfg := app.Config{Table: stack.Table, KeyID: stack.KeyID, EventBus: "unused", Stage: stage}
	b := app.Backends{DynamoDB: stack.DynamoDB, KMS: stack.KMS, Publisher: pub}
	w.app = app.New(cfg, b, logging.New(w.logs, "debug"), opts)
	for merchant, key := range map[string]string{"mer_a": merchantKey, "mer_b": otherKey} {
		if err := w.app.Service.RegisterMerchantKey(ctx, merchant, key); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// call sends one request to the webhook-endpoints function's handler.
func (w *webhookApp) call(method, auth, id, body string,
	query map[string]string) (int, map[string]any, string) {
	w.t.Helper()
	return call(w.t, w.app.Handlers.WebhookEndpoints(), method, auth, id, body, query)
}

func call(t *testing.T, h httpapi.Handler, method, auth, id, body string,
	query map[string]string) (int, map[string]any, string) {
	t.Helper()
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", Body: body, QueryStringParameters: query,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-webhooks",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method},
		},
	}
	if auth != "" {
		req.Headers["authorization"] = auth
	}
	if id != "" {
		req.PathParameters = map[string]string{"id": id}
	}
	resp, err := h(context.Background(), req)
	if err != nil {
		t.Fatalf("%s returned a Go error: %v", method, err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatalf("%s: body is not JSON: %q", method, resp.Body)
	}
	return resp.StatusCode, out, resp.Body
}

func TestRegisterWebhookEndpoint(t *testing.T) {
	w := newWebhookApp(t, app.StageSandbox, true)
	status, out, raw := w.call("POST", "Bearer "+merchantKey, "",
		`{"url":"https://merchant.example.com/hooks",`+
			`"events":["network_token.created","network_token.deleted"]}`, nil)
	if status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	id, _ := out["id"].(string)
	signing, _ := out["secret"].(string)
	created, _ := out["createdAt"].(string)
	if !endpointIDPattern.MatchString(id) || !secretPattern.MatchString(signing) {
		t.Errorf("id %q secret shape %v", id, secretPattern.MatchString(signing))
	}
	if _, err := time.Parse(time.RFC3339, created); err != nil {
		t.Errorf("createdAt %q: %v", created, err)
	}
	if out["url"] != "https://merchant.example.com/hooks" ||
		!equalJSON(out["events"], []any{"network_token.created", "network_token.deleted"}) {
		t.Errorf("answer %s", raw)
	}

	// No events means every type, shown as an empty list.
	_, all, _ := w.call("POST", "Bearer "+merchantKey, "", `{"url":"http://127.0.0.1:9/x"}`, nil)
	if !equalJSON(all["events"], []any{}) {
		t.Errorf("events of a catch-all endpoint: %v", all["events"])
	}

	// The secret is shown once: not in the list, not in the logs, and only
	// sealed in the table.
	status, list, listRaw := w.call("GET", "Bearer "+merchantKey, "", "", nil)
	data, _ := list["data"].([]any)
	if status != http.StatusOK || len(data) != 2 || strings.Contains(listRaw, "whsec_") ||
		strings.Contains(listRaw, `"secret"`) {
		t.Errorf("list: %d %s", status, listRaw)
	}
	if strings.Contains(w.logs.String(), signing) {
		t.Error("logs contain the signing secret")
	}
	checkNoSecretInTable(t, w, signing)

	// Another merchant sees none of them.
	_, other, _ := w.call("GET", "Bearer "+otherKey, "", "", nil)
	if !equalJSON(other["data"], []any{}) {
		t.Errorf("another merchant's list: %v", other)
	}
}

func checkNoSecretInTable(t *testing.T, w *webhookApp, signing string) {
	t.Helper()
	out, err := w.stack.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{
		TableName: aws.String(w.stack.Table),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range out.Items {
		for name, v := range item {
			var s string
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				s = v.Value
			case *types.AttributeValueMemberB:
				s = string(v.Value)
			}
			if strings.Contains(s, "whsec_") || strings.Contains(s, signing[len("whsec_"):]) {
				t.Errorf("attribute %s holds the signing secret in clear", name)
			}
		}
	}
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestRegisterWebhookEndpointRefuses(t *testing.T) {
	sandbox := newWebhookApp(t, app.StageSandbox, true)
	live := newWebhookApp(t, app.StageLive, true)
	notLocal := newWebhookApp(t, app.StageSandbox, false)
	const sk = "Bearer " + merchantKey
	long := `https://example.com/` + strings.Repeat("a", 2030)

	tests := []struct {
		name   string
		w      *webhookApp
		auth   string
		body   string
		status int
		code   string
		param  string
	}{
		{"no credential", sandbox, "", `{"url":"https://example.com"}`, 401, "missing_authorization", ""},
		{"client secret", sandbox, "Bearer cs_abc",
			`{"url":"https://example.com"}`, 401, "invalid_authorization", ""},
		{"unknown key", sandbox, "Bearer sk_test_nope", `{"url":"https://example.com"}`, 401, "", ""},
		{"no url", sandbox, sk, `{}`, 400, "missing_parameter", "url"},
		{"empty url", sandbox, sk, `{"url":""}`, 400, "missing_parameter", "url"},
		{"url not a string", sandbox, sk, `{"url":5}`, 400, "invalid_type", "url"},
		{"not JSON", sandbox, sk, `url=https://example.com`, 400, "invalid_json", ""},
		{"unknown field", sandbox, sk,
			`{"url":"https://example.com","secret":"x"}`, 400, "unknown_parameter", "secret"},
		{"plain http", sandbox, sk, `{"url":"http://example.com/hooks"}`, 400, "invalid_url", "url"},
		{"relative", sandbox, sk, `{"url":"/hooks"}`, 400, "invalid_url", "url"},
		{"credentials", sandbox, sk, `{"url":"https://u:p@example.com/"}`, 400, "invalid_url", "url"},
		{"too long", sandbox, sk, `{"url":"` + long + `"}`, 400, "invalid_url", "url"},
		{"private address", sandbox, sk, `{"url":"https://10.1.2.3/hooks"}`, 400, "invalid_url", "url"},
		{"metadata address", sandbox, sk,
			`{"url":"https://169.254.169.254/"}`, 400, "invalid_url", "url"},
		{"loopback in live", live, sk,
			`{"url":"http://127.0.0.1:8080/hooks"}`, 400, "invalid_url", "url"},
		{"loopback without local delivery", notLocal, sk,
			`{"url":"http://127.0.0.1:8080/"}`, 400, "invalid_url", "url"},
		{"unknown event type", sandbox, sk,
			`{"url":"https://example.com","events":["network_token.created","network_token.frozen"]}`,
			400, "unknown_event_type", "events[1]"},
		{"events not a list", sandbox, sk,
			`{"url":"https://example.com","events":"network_token.created"}`, 400, "invalid_type", "events"},
		{"event not a string", sandbox, sk,
			`{"url":"https://example.com","events":[5]}`, 400, "invalid_type", "events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, raw := tt.w.call("POST", tt.auth, "", tt.body, nil)
			e, _ := out["error"].(map[string]any)
			if status != tt.status || e == nil || e["message"] == "" || e["requestId"] == "" {
				t.Fatalf("status %d body %s, want %d", status, raw, tt.status)
			}
			if tt.code != "" && e["code"] != tt.code {
				t.Errorf("code %v, want %s", e["code"], tt.code)
			}
			if tt.param != "" && e["param"] != tt.param {
				t.Errorf("param %v, want %s", e["param"], tt.param)
			}
		})
	}
}

func TestDeleteWebhookEndpoint(t *testing.T) {
	w := newWebhookApp(t, app.StageSandbox, true)
	_, out, _ := w.call("POST", "Bearer "+merchantKey, "", `{"url":"https://example.com/h"}`, nil)
	id := out["id"].(string)

	tests := []struct {
		name   string
		key    string
		id     string
		status int
	}{
		{"another merchant's", otherKey, id, 404},
		{"malformed id", merchantKey, "we_nope", 404},
		{"own", merchantKey, id, 200},
		{"again", merchantKey, id, 404},
	}
	for _, tt := range tests {
		status, body, raw := w.call("DELETE", "Bearer "+tt.key, tt.id, "", nil)
		if status != tt.status {
			t.Errorf("%s: status %d %s, want %d", tt.name, status, raw, tt.status)
		}
		if status == 200 && (body["id"] != id || body["deleted"] != true) {
			t.Errorf("%s: answer %s", tt.name, raw)
		}
	}
	if _, list, _ := w.call("GET", "Bearer "+merchantKey, "", "", nil); !equalJSON(list["data"], []any{}) {
		t.Errorf("list after delete: %v", list)
	}
	limit := map[string]string{"limit": "5"}
	if status, _, _ := w.call("GET", "Bearer "+merchantKey, "", "", limit); status != 400 {
		t.Errorf("unknown query parameter: status %d", status)
	}
	if status, _, _ := w.call("PUT", "Bearer "+merchantKey, id, "{}", nil); status != 404 {
		t.Errorf("PUT: status %d", status)
	}
}

// The dev server serves the three routes through the same function handler.
func TestWebhookRoutesOnLocalServer(t *testing.T) {
	w := newWebhookApp(t, app.StageSandbox, true)
	srv := httptest.NewServer(httpapi.LocalServer(w.app.Handlers.Routes()))
	t.Cleanup(srv.Close)
	do := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+merchantKey)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	const base = "/functions/v1/webhook-endpoints"
	status, out := do("POST", base, `{"url":"https://example.com/h"}`)
	if status != 201 {
		t.Fatalf("POST: %d %v", status, out)
	}
	if status, list := do("GET", base, ""); status != 200 || len(list["data"].([]any)) != 1 {
		t.Errorf("GET: %d %v", status, list)
	}
	if status, del := do("DELETE", base+"/"+out["id"].(string), ""); status != 200 {
		t.Errorf("DELETE: %d %v", status, del)
	}
}

func TestWebhookRoutesWithoutRegistry(t *testing.T) {
	w := newWebhookApp(t, app.StageSandbox, true)
	h := httpapi.New(w.app.Service, logging.New(io.Discard, "")).CreateWebhookEndpoint()
	status, out, _ := call(t, h, "POST", "Bearer "+merchantKey, "", `{"url":"https://example.com"}`, nil)
	if e, _ := out["error"].(map[string]any); status != 503 || e["code"] != "webhooks_unavailable" {
		t.Errorf("status %d %v", status, out)
	}
}
