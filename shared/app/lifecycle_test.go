package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/httpapi"
	"github.com/atlas-network-tokens/atlas/shared/networks"
	"github.com/atlas-network-tokens/atlas/shared/signature"
)

// tokenFixture is a session with an active network token on a test card.
type tokenFixture struct {
	h         *harness
	sessionID string
	auth      string
	ntID      string
	token     map[string]any
}

func newToken(t *testing.T, h *harness, number string) tokenFixture {
	t.Helper()
	hs := h.app.Handlers
	status, sess := h.call(hs.CreateSession(), "POST", "/functions/v1/sessions", "Bearer "+h.key, "", nil, `{}`)
	if status != http.StatusCreated {
		t.Fatalf("session: %d %v", status, sess)
	}
	f := tokenFixture{h: h, sessionID: sess["id"].(string), auth: "Bearer " + sess["clientSecret"].(string)}
	status, card := h.call(hs.CreateCardToken(), "POST", "/functions/v1/tokens", f.auth, "", nil,
		cardBody(f.sessionID, number, 6, h.clock().Year()+3))
	if status != http.StatusCreated {
		t.Fatalf("card token: %d %v", status, card)
	}
	status, f.token = h.call(hs.CreateNetworkToken(), "POST", "/functions/v1/network-tokens", f.auth, "", nil,
		`{"session_id":"`+f.sessionID+`","token_id":"`+card["id"].(string)+`"}`)
	if status != http.StatusCreated {
		t.Fatalf("network token: %d %v", status, f.token)
	}
	f.ntID = f.token["networkTokenId"].(string)
	return f
}

func (f tokenFixture) simulate(t *testing.T, event string) (int, map[string]any) {
	t.Helper()
	return f.h.call(f.h.app.Handlers.Simulate(), "POST", "/simulate", f.auth, f.ntID, nil,
		`{"session_id":"`+f.sessionID+`","event":"`+event+`"}`)
}

func (f tokenFixture) post(t *testing.T, handler httpapi.Handler, body string) (int, map[string]any) {
	t.Helper()
	if body == "" {
		body = `{"session_id":"` + f.sessionID + `"}`
	}
	return f.h.call(handler, "POST", "/x", f.auth, f.ntID, nil, body)
}

func (f tokenFixture) get(t *testing.T) map[string]any {
	t.Helper()
	status, body := f.h.call(f.h.app.Handlers.GetNetworkToken(), "GET", "/x", f.auth, f.ntID,
		map[string]string{"session_id": f.sessionID}, "")
	if status != http.StatusOK {
		t.Fatalf("get: %d %v", status, body)
	}
	return body
}

// publishedEvents sweeps the outbox and returns every event published so
// far, by type.
func (h *harness) publishedEvents(t *testing.T) map[string][]map[string]any {
	t.Helper()
	if _, err := h.app.Relay.Sweep(context.Background()); err != nil {
		t.Fatalf("relay sweep: %v", err)
	}
	byType := map[string][]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(h.events.String()), "\n") {
		if line == "" {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("event line is not JSON: %q", line)
		}
		byType[ev["type"].(string)] = append(byType[ev["type"].(string)], ev)
	}
	return byType
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func TestCardReissueUpdatesExpiryAndEmitsUpdated(t *testing.T) {
	for _, number := range []string{"4242424242424242", "5555555555554444", "378282246310005"} {
		t.Run(number, func(t *testing.T) {
			h := newHarness(t)
			f := newToken(t, h, number)
			before := f.get(t)

			status, body := f.simulate(t, "card_reissued")
			if status != http.StatusOK {
				t.Fatalf("simulate: %d %v", status, body)
			}
			after := f.get(t)
			oldYear, newYear := before["tokenExpiryYear"].(string), after["tokenExpiryYear"].(string)
			if newYear == oldYear || after["tokenExpiryMonth"] != before["tokenExpiryMonth"] {
				t.Fatalf("expiry %s/%s -> %s/%s", before["tokenExpiryMonth"], oldYear, after["tokenExpiryMonth"], newYear)
			}
			if after["status"] != "active" {
				t.Fatalf("an update changed the state: %v", after["status"])
			}

			updated := h.publishedEvents(t)["network_token.updated"]
			if len(updated) != 1 {
				t.Fatalf("%d updated events, want 1", len(updated))
			}
			data := updated[0]["data"].(map[string]any)
			wantPrev := before["tokenExpiryMonth"].(string) + "/" + oldYear
			wantNew := after["tokenExpiryMonth"].(string) + "/" + newYear
			if data["previousExpiry"] != wantPrev || data["newExpiry"] != wantNew || data["networkTokenId"] != f.ntID {
				t.Fatalf("updated data %v, want %s -> %s", data, wantPrev, wantNew)
			}
			changes := fmt.Sprint(data["changes"])
			if !strings.Contains(changes, "token_expiry") || !strings.Contains(changes, "card_expiry") {
				t.Fatalf("changes %v lack token_expiry and card_expiry", data["changes"])
			}
			if data["cardExpiry"] == fmt.Sprintf("06/%d", h.clock().Year()+3) {
				t.Fatalf("card expiry did not move on a reissue: %v", data["cardExpiry"])
			}
		})
	}
}

func TestCardNumberChangeReplacesTokenPAN(t *testing.T) {
	h := newHarness(t)
	f := newToken(t, h, "5555555555554444")
	before := f.get(t)
	if status, body := f.simulate(t, "card_number_changed"); status != http.StatusOK {
		t.Fatalf("simulate: %d %v", status, body)
	}
	after := f.get(t)
	if after["tokenLast4"] == before["tokenLast4"] || after["cardLast4"] == before["cardLast4"] {
		t.Fatalf("token/card last4 unchanged: %v -> %v", before, after)
	}
	if after["paymentAccountReference"] != before["paymentAccountReference"] {
		t.Fatal("the PAR must survive a card number change")
	}
	data := h.publishedEvents(t)["network_token.updated"][0]["data"].(map[string]any)
	changes := fmt.Sprint(data["changes"])
	if !strings.Contains(changes, "token_pan") || !strings.Contains(changes, "card_last4") {
		t.Fatalf("changes = %s", changes)
	}
	// The new token PAN still yields cryptograms.
	if status, body := f.post(t, h.app.Handlers.CreateCryptogram(), ""); status != http.StatusCreated {
		t.Fatalf("cryptogram after redigitization: %d %v", status, body)
	}
}

func TestSuspendResumeTransitions(t *testing.T) {
	h := newHarness(t)
	f := newToken(t, h, "4242424242424242")
	hs := h.app.Handlers

	steps := []struct {
		name       string
		handler    httpapi.Handler
		simulate   string
		wantStatus int
		wantCode   string
		wantState  string
	}{
		{"resume an active token", hs.ResumeNetworkToken(), "", 409, "invalid_state_transition", "active"},
		{"merchant suspends", hs.SuspendNetworkToken(), "", 200, "", "suspended"},
		{"suspend twice", hs.SuspendNetworkToken(), "", 409, "invalid_state_transition", "suspended"},
		{"no cryptogram while suspended", hs.CreateCryptogram(), "", 409, "token_not_active", "suspended"},
		{"merchant resumes", hs.ResumeNetworkToken(), "", 200, "", "active"},
		{"issuer suspends", nil, "issuer_suspended", 200, "", "suspended"},
		{"merchant cannot resume the issuer's suspension", hs.ResumeNetworkToken(), "", 409, "suspended_by_issuer", "suspended"},
		{"issuer resumes", nil, "issuer_resumed", 200, "", "active"},
		{"issuer resumes again", nil, "issuer_resumed", 409, "invalid_state_transition", "active"},
		{"account closed", nil, "account_closed", 200, "", "deleted"},
		{"nothing leaves deleted: resume", hs.ResumeNetworkToken(), "", 409, "token_deleted", "deleted"},
		{"nothing leaves deleted: suspend", hs.SuspendNetworkToken(), "", 409, "token_deleted", "deleted"},
		{"nothing leaves deleted: simulate", nil, "issuer_resumed", 409, "token_deleted", "deleted"},
		{"no cryptogram once deleted", hs.CreateCryptogram(), "", 409, "token_not_active", "deleted"},
	}
	for _, step := range steps {
		h.advance(time.Second) // networks stamp each change with their own clock
		var status int
		var body map[string]any
		if step.simulate != "" {
			status, body = f.simulate(t, step.simulate)
		} else {
			status, body = f.post(t, step.handler, "")
		}
		if status != step.wantStatus || errorCode(body) != step.wantCode {
			t.Fatalf("%s: %d %v, want %d %q", step.name, status, body, step.wantStatus, step.wantCode)
		}
		if got := f.get(t)["status"]; got != step.wantState {
			t.Fatalf("%s: state %v, want %s", step.name, got, step.wantState)
		}
	}

	evs := h.publishedEvents(t)
	want := map[string]int{
		"network_token.created": 1, "network_token.suspended": 2, "network_token.resumed": 2,
		"network_token.deleted": 1,
	}
	for typ, n := range want {
		if len(evs[typ]) != n {
			t.Errorf("%d %s events, want %d", len(evs[typ]), typ, n)
		}
	}
	ids := map[string]bool{}
	for _, list := range evs {
		for _, ev := range list {
			if ids[ev["id"].(string)] {
				t.Errorf("event id %s published twice", ev["id"])
			}
			ids[ev["id"].(string)] = true
		}
	}
}

// sign makes a network notification the way the sandbox network does.
func (h *harness) signedNotification(t *testing.T, network networks.Network, n networks.Notification, at time.Time) events.APIGatewayV2HTTPRequest {
	t.Helper()
	body, err := networks.EncodeNotification(network, n, "req_test")
	if err != nil {
		t.Fatal(err)
	}
	sb := networks.NewSandbox(h.app.Store.SandboxState(sealerFor(h)), nil)
	secret, err := sb.NotificationSecret(context.Background(), network)
	if err != nil {
		t.Fatal(err)
	}
	return events.APIGatewayV2HTTPRequest{
		Headers:        map[string]string{httpapi.NotificationSignatureHeader: signature.Sign(secret, at, body)},
		PathParameters: map[string]string{"network": string(network)},
		Body:           string(body),
	}
}

func (h *harness) deliver(t *testing.T, req events.APIGatewayV2HTTPRequest) (int, map[string]any) {
	t.Helper()
	resp, err := h.app.Handlers.ReceiveNotification()(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body %q", resp.Body)
	}
	return resp.StatusCode, body
}

func TestNotificationsNeverMoveBackwards(t *testing.T) {
	h := newHarness(t)
	f := newToken(t, h, "5555555555554444")
	ref := reference(t, h, f.ntID)
	t0 := h.clock()

	suspend := networks.Notification{Reference: ref, Status: networks.StatusSuspended,
		Reason: networks.ReasonStatusUpdate, SuspendedBy: networks.SuspenderIssuer, StatusAt: t0.Add(2 * time.Second)}
	resume := networks.Notification{Reference: ref, Status: networks.StatusActive,
		Reason: networks.ReasonStatusUpdate, StatusAt: t0.Add(time.Second)}

	newer := h.signedNotification(t, networks.Mastercard, suspend, h.clock())
	older := h.signedNotification(t, networks.Mastercard, resume, h.clock())
	outcomes := []string{}
	for _, req := range []events.APIGatewayV2HTTPRequest{newer, newer, older} {
		status, body := h.deliver(t, req)
		if status != http.StatusOK {
			t.Fatalf("deliver: %d %v", status, body)
		}
		outcomes = append(outcomes, body["outcomes"].([]any)[0].(map[string]any)["outcome"].(string))
	}
	if want := "applied ignored_stale ignored_stale"; strings.Join(outcomes, " ") != want {
		t.Fatalf("outcomes %v, want %s", outcomes, want)
	}
	if got := f.get(t)["status"]; got != "suspended" {
		t.Fatalf("status %v after a late resume, want suspended", got)
	}
	if n := len(h.publishedEvents(t)["network_token.suspended"]); n != 1 {
		t.Fatalf("%d suspended events for one change, want 1", n)
	}
}

func TestNotificationAuthentication(t *testing.T) {
	h := newHarness(t)
	f := newToken(t, h, "4242424242424242")
	n := networks.Notification{Reference: reference(t, h, f.ntID), Status: networks.StatusSuspended,
		Reason: networks.ReasonStatusUpdate, StatusAt: h.clock()}

	good := h.signedNotification(t, networks.Visa, n, h.clock())
	stale := h.signedNotification(t, networks.Visa, n, h.clock().Add(-10*time.Minute))
	tampered := good
	tampered.Body = strings.Replace(good.Body, "SUSPENDED", "ACTIVE", 1)
	unsigned := good
	unsigned.Headers = map[string]string{}
	wrongNetwork := good
	wrongNetwork.PathParameters = map[string]string{"network": "mastercard"}
	unknownNetwork := good
	unknownNetwork.PathParameters = map[string]string{"network": "discover"}
	unknownToken := h.signedNotification(t, networks.Visa, networks.Notification{
		Reference: "0123456789abcdef0123456789abcdef", Status: networks.StatusActive, StatusAt: h.clock(),
	}, h.clock())

	tests := []struct {
		name    string
		req     events.APIGatewayV2HTTPRequest
		status  int
		code    string
		outcome string
	}{
		{"unsigned", unsigned, 401, "invalid_signature", ""},
		{"stale signature", stale, 401, "invalid_signature", ""},
		{"tampered body", tampered, 401, "invalid_signature", ""},
		{"signed for another network", wrongNetwork, 401, "invalid_signature", ""},
		{"unknown network", unknownNetwork, 404, "unknown_network", ""},
		{"unknown token is acknowledged", unknownToken, 200, "", "unknown_token"},
		{"good", good, 200, "", "applied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.deliver(t, tt.req)
			if status != tt.status || errorCode(body) != tt.code {
				t.Fatalf("%d %v, want %d %q", status, body, tt.status, tt.code)
			}
			if tt.outcome != "" {
				got := body["outcomes"].([]any)[0].(map[string]any)["outcome"]
				if got != tt.outcome {
					t.Fatalf("outcome %v, want %s", got, tt.outcome)
				}
			}
		})
	}
}

func TestSandboxAuthorizations(t *testing.T) {
	h := newHarness(t)
	f := newToken(t, h, "4242424242424242")
	hs := h.app.Handlers

	cryptogram := func() string {
		status, body := f.post(t, hs.CreateCryptogram(), "")
		if status != http.StatusCreated {
			t.Fatalf("cryptogram: %d %v", status, body)
		}
		return body["cryptogram"].(string)
	}
	authorize := func(value string) map[string]any {
		payload, _ := json.Marshal(map[string]any{
			"session_id": f.sessionID, "network_token_id": f.ntID, "cryptogram": value,
			"amount": 1999, "currency": "EUR",
		})
		status, body := h.call(hs.Authorize(), "POST", "/functions/v1/sandbox/authorizations", f.auth, "", nil, string(payload))
		if status != http.StatusCreated {
			t.Fatalf("authorize: %d %v", status, body)
		}
		return body
	}
	expect := func(name string, body map[string]any, status, reason string) {
		t.Helper()
		if body["status"] != status || (reason != "" && body["declineReason"] != reason) {
			t.Fatalf("%s: %v, want %s %s", name, body, status, reason)
		}
	}

	first := cryptogram()
	expect("fresh cryptogram", authorize(first), "approved", "")
	expect("second use", authorize(first), "declined", "cryptogram_already_used")
	expect("garbage", authorize("AAAAAAAAAAAAAAAAAAAAAAAAAAA="), "declined", "invalid_cryptogram")

	late := cryptogram()
	h.advance(11 * time.Minute)
	expect("after ten minutes", authorize(late), "declined", "cryptogram_expired")

	suspended := cryptogram()
	if status, body := f.post(t, hs.SuspendNetworkToken(), ""); status != http.StatusOK {
		t.Fatalf("suspend: %d %v", status, body)
	}
	expect("suspended token", authorize(suspended), "declined", "token_suspended")
	if status, body := f.post(t, hs.ResumeNetworkToken(), ""); status != http.StatusOK {
		t.Fatalf("resume: %d %v", status, body)
	}

	deleted := cryptogram()
	h.call(hs.DeleteNetworkToken(), "DELETE", "/x", f.auth, f.ntID, map[string]string{"session_id": f.sessionID}, "")
	expect("deleted token", authorize(deleted), "declined", "token_deleted")
}

func TestCryptogramSingleUseUnderConcurrency(t *testing.T) {
	h := newHarness(t)
	f := newToken(t, h, "5555555555554444")
	status, body := f.post(t, h.app.Handlers.CreateCryptogram(), "")
	if status != http.StatusCreated {
		t.Fatalf("cryptogram: %d %v", status, body)
	}
	payload, _ := json.Marshal(map[string]any{
		"session_id": f.sessionID, "network_token_id": f.ntID, "cryptogram": body["cryptogram"],
		"amount": 500, "currency": "USD",
	})

	const n = 50
	var wg sync.WaitGroup
	results := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := request("POST", "/functions/v1/sandbox/authorizations", f.auth, "", nil, string(payload))
			resp, err := h.app.Handlers.Authorize()(context.Background(), req)
			if err != nil {
				results <- "go error: " + err.Error()
				return
			}
			out, err := checkResponse(resp)
			if err != nil {
				results <- err.Error()
				return
			}
			results <- fmt.Sprint(out["status"], "/", out["declineReason"])
		}()
	}
	wg.Wait()
	close(results)
	counts := map[string]int{}
	for r := range results {
		counts[r]++
	}
	if counts["approved/<nil>"] != 1 || counts["declined/cryptogram_already_used"] != n-1 {
		t.Fatalf("outcomes %v: want exactly one approval", counts)
	}
}
