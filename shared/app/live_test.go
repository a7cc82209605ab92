package app_test

import (
	"net/http"
	"testing"

	"github.com/atlas-network-tokens/atlas/shared/app"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/publish"
)

// The live stage has no sandbox: the sandbox routes do not exist, and with
// no live network adapter provisioning says the service is unavailable
// rather than pretending.
func TestLiveStageHasNoSandbox(t *testing.T) {
	h := newHarness(t)
	pub, err := publish.NewJSONLines(h.events)
	if err != nil {
		t.Fatal(err)
	}
	cfg := h.app.Config
	cfg.Stage = app.StageLive
	h.app = app.New(cfg, app.Backends{DynamoDB: h.stack.DynamoDB, KMS: h.stack.KMS, Publisher: pub},
		logging.New(h.logs, "info"), app.Options{Now: h.clock})
	s := h.newSession(h.key, "cus_live")
	cardID := h.tokenize(s, "4242424242424242")

	status, body := h.provision(s, cardID, false)
	if code, _ := errorOf(body); status != http.StatusServiceUnavailable || code != "network_unavailable" {
		t.Fatalf("provision in live: %d %v, want 503 network_unavailable", status, body)
	}
	routes := []struct {
		name string
		call func() (int, map[string]any)
	}{
		{"simulate", func() (int, map[string]any) {
			return h.call(h.app.Handlers.Simulate(), "POST", "/x", s.auth, "nt_"+randomHex(16), nil,
				`{"session_id":`+quote(s.id)+`,"event":"card_reissued"}`)
		}},
		{"authorize", func() (int, map[string]any) {
			return h.call(h.app.Handlers.Authorize(), "POST", "/x", s.auth, "", nil,
				`{"session_id":`+quote(s.id)+`,"network_token_id":"nt_x","cryptogram":"x","amount":1,"currency":"EUR"}`)
		}},
	}
	for _, r := range routes {
		status, body := r.call()
		if code, _ := errorOf(body); status != http.StatusNotFound || code != "route_not_found" {
			t.Errorf("%s in live: %d %v, want 404 route_not_found", r.name, status, body)
		}
	}
}
