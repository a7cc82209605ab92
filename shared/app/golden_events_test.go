package app_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// goldenEvent loads events/<name>.json, the sample a function is invoked
// with under SAM or the emulator, with its placeholders replaced.
func goldenEvent(t *testing.T, name string, ids map[string]string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for placeholder, value := range ids {
		text = strings.ReplaceAll(text, placeholder, value)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal([]byte(text), &ev); err != nil {
		t.Fatalf("%s.json: %v", name, err)
	}
	return ev
}

// The sample events drive the handler values in process, one step of the
// published flow and the lifecycle each, with ids from the earlier steps:
// every sample is a request the service answers as documented.
func TestSampleEventsThroughHandlers(t *testing.T) {
	h := newHarness(t)
	handlers := map[string]func(events.APIGatewayV2HTTPRequest) (int, map[string]any){}
	for _, r := range h.app.Handlers.Routes() {
		handler := r.Handler
		handlers[r.Method+" "+r.Path] = func(req events.APIGatewayV2HTTPRequest) (int, map[string]any) {
			resp := h.invoke(handler, req)
			out, err := checkResponse(resp)
			if err != nil {
				t.Fatal(err)
			}
			return resp.StatusCode, out
		}
	}
	ids := map[string]string{"sk_example": h.key}
	run := func(name string, wantStatus int) map[string]any {
		t.Helper()
		ev := goldenEvent(t, name, ids)
		handler, ok := handlers[ev.RouteKey]
		if !ok {
			t.Fatalf("%s.json: no handler for %q", name, ev.RouteKey)
		}
		status, out := handler(ev)
		if status != wantStatus {
			t.Fatalf("%s.json: %d %v, want %d", name, status, out, wantStatus)
		}
		return out
	}

	sess := run("session", http.StatusCreated)
	ids["sess_example"], ids["cs_example"] = str(sess, "id"), str(sess, "clientSecret")
	ids["cus_example"] = str(sess, "customerId")
	card := run("tokenize", http.StatusCreated)
	ids["tok_card_example"] = str(card, "id")
	nt := run("provision", http.StatusCreated)
	ids["nt_example"] = str(nt, "networkTokenId")
	if nt["cryptogram"] == nil || nt["cryptogramType"] != "TAVV" {
		t.Fatalf("provision.json asks for a cryptogram: %v", nt)
	}
	if again := run("provision", http.StatusOK); again["networkTokenId"] != nt["networkTokenId"] {
		t.Fatalf("provisioning again gave another token: %v", again)
	}
	cg := run("cryptogram", http.StatusCreated)
	ids["cryptogram_example"] = str(cg, "cryptogram")
	if out := run("authorize", http.StatusCreated); out["status"] != "approved" {
		t.Fatalf("authorize.json with a fresh cryptogram: %v", out)
	}
	if out := run("get", http.StatusOK); out["cryptogram"] != nil || out["status"] != "active" {
		t.Fatalf("get.json: %v", out)
	}
	if out := run("simulate", http.StatusOK); out["event"] != "card_reissued" {
		t.Fatalf("simulate.json: %v", out)
	}
	if out := run("suspend", http.StatusOK); out["status"] != "suspended" {
		t.Fatalf("suspend.json: %v", out)
	}
	if out := run("resume", http.StatusOK); out["status"] != "active" {
		t.Fatalf("resume.json: %v", out)
	}
	// The sample's signature is a placeholder: the network check refuses it.
	if out := run("notifications", http.StatusUnauthorized); errorCode(out) != "invalid_signature" {
		t.Fatalf("notifications.json: %v", out)
	}
	if out := run("webhook-endpoints", http.StatusCreated); !strings.HasPrefix(str(out, "secret"), "whsec_") {
		t.Fatalf("webhook-endpoints.json: %v", out)
	}
	if out := run("delete", http.StatusOK); out["status"] != "deleted" {
		t.Fatalf("delete.json: %v", out)
	}
	if out := run("cryptogram", http.StatusConflict); errorCode(out) != "token_not_active" {
		t.Fatalf("cryptogram.json after delete: %v", out)
	}
}
