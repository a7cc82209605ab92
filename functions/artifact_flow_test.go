package functions_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/apitest"
	"github.com/atlas-network-tokens/atlas/shared/lambdatest"
)

// placeholders are the ids of events/README.md, each replaced by the value
// an earlier step produced.
var placeholders = []string{
	"sk_example", "cs_example", "sess_example", "tok_card_example", "nt_example", "cus_example",
}

// Test cards: provision.json tokenizes the Visa card; the Mastercard card
// gives the notification step a token on the network of notifications.json.
const (
	visaCard       = "4242424242424242"
	mastercardCard = "5555555555554444"
	badCard        = "4242424242424241" // fails the Luhn check
)

var (
	sessionIDPattern    = regexp.MustCompile(`^sess_[0-9a-f]{32}$`)
	clientSecretPattern = regexp.MustCompile(`^cs_[0-9a-f]{64}$`)
	cardTokenIDPattern  = regexp.MustCompile(`^tok_card_[0-9a-f]{32}$`)
	networkTokenPattern = regexp.MustCompile(`^nt_[0-9a-f]{32}$`)
	authorizationIDPat  = regexp.MustCompile(`^auth_[0-9a-f]+$`)
	endpointIDPattern   = regexp.MustCompile(`^we_[0-9a-f]{32}$`)
	eventIDPattern      = regexp.MustCompile(`^evt_[0-9a-f]{32}$`)
	monthPattern        = regexp.MustCompile(`^(0[1-9]|1[0-2])$`)
	yearPattern         = regexp.MustCompile(`^20[0-9]{2}$`)
)

// flow is the state the published flow hands from step to step.
type flow struct {
	*backends
	fns map[string]*lambdatest.Emulator

	merchantKey, hooksKey string
	sessionID, secret     string
	cardID, ntID          string
	expiry                string // the token's MM/YYYY before the reissue
	newExpiry             string // and after it
	payCryptogram         string // from the cryptogram route, spent by authorize
	mcNetworkTokenID      string
	busEvents             []string // message bodies read from the test queue

	// secrets are values that must never appear in logs, storage or events.
	secrets []string
}

type step struct {
	name string
	run  func(t *testing.T)
}

func newFlow(t *testing.T, b *backends, fns map[string]*lambdatest.Emulator) *flow {
	t.Helper()
	f := &flow{backends: b, fns: fns,
		merchantKey: "sk_test_" + randomHex(t), hooksKey: "sk_test_" + randomHex(t)}
	keys := map[string]string{merchantID: f.merchantKey, hooksMerchantID: f.hooksKey}
	for merchant, key := range keys {
		if err := b.app.Service.RegisterMerchantKey(t.Context(), merchant, key); err != nil {
			t.Fatalf("registering %s: %v", merchant, err)
		}
	}
	f.secrets = append(f.secrets, f.merchantKey, f.hooksKey, visaCard, mastercardCard, badCard)
	return f
}

func (f *flow) steps() []step {
	return []step{
		{"session", f.session},
		{"tokenize", f.tokenize},
		{"tokenize a bad card", f.tokenizeBadCard},
		{"provision", f.provision},
		{"provision again", f.provisionAgain},
		{"cryptogram", f.cryptogram},
		{"authorize", f.authorize},
		{"authorize with a spent cryptogram", f.authorizeSpent},
		{"simulate card reissue", f.simulateReissue},
		{"suspend", f.suspend},
		{"resume", f.resume},
		{"get", f.get},
		{"delete", f.delete},
		{"cryptogram after delete", f.cryptogramAfterDelete},
		{"notification with a bad signature", f.notificationBadSignature},
		{"notification signed by the network", f.notificationSigned},
		{"webhook endpoints", f.webhookEndpoints},
		{"events reach the bus", f.eventsReachBus},
		{"dispatcher", f.dispatcher},
		{"sweeper", f.sweeper},
	}
}

func (f *flow) session(t *testing.T) {
	status, body := f.call(t, "session", f.event(t, "session"))
	wantStatus(t, status, http.StatusCreated, body)
	apitest.WantMatch(t, body, "id", sessionIDPattern)
	apitest.WantMatch(t, body, "clientSecret", clientSecretPattern)
	apitest.WantField(t, body, "customerId", customerID)
	f.sessionID, f.secret = str(body, "id"), str(body, "clientSecret")
	f.secrets = append(f.secrets, f.secret)
}

func (f *flow) tokenize(t *testing.T) {
	status, body := f.call(t, "tokenize", f.event(t, "tokenize"))
	wantStatus(t, status, http.StatusCreated, body)
	apitest.WantMatch(t, body, "id", cardTokenIDPattern)
	apitest.WantField(t, body, "brand", "visa")
	apitest.WantField(t, body, "last4", "4242")
	apitest.WantNumber(t, body, "expMonth", 12)
	apitest.WantNumber(t, body, "expYear", 2030)
	f.cardID = str(body, "id")
}

func (f *flow) tokenizeBadCard(t *testing.T) {
	status, body := f.call(t, "tokenize", f.event(t, "tokenize", visaCard, badCard))
	wantStatus(t, status, http.StatusBadRequest, body)
	wantError(t, body, "invalid_card_number", "card[number]")
}

func (f *flow) provision(t *testing.T) {
	status, body := f.call(t, "provision", f.event(t, "provision"))
	wantStatus(t, status, http.StatusCreated, body)
	checkNetworkToken(t, body, "visa", "active")
	checkCryptogram(t, body, "TAVV")
	f.ntID = str(body, "networkTokenId")
	f.expiry = str(body, "tokenExpiryMonth") + "/" + str(body, "tokenExpiryYear")
	f.secrets = append(f.secrets, str(body, "cryptogram"))
}

// provisionAgain: the card already has a live token, which comes back
// with a fresh cryptogram (provision.json asks for one).
func (f *flow) provisionAgain(t *testing.T) {
	status, body := f.call(t, "provision", f.event(t, "provision"))
	wantStatus(t, status, http.StatusOK, body)
	apitest.WantField(t, body, "networkTokenId", f.ntID)
	checkNetworkToken(t, body, "visa", "active")
	checkCryptogram(t, body, "TAVV")
	f.secrets = append(f.secrets, str(body, "cryptogram"))
}

func (f *flow) cryptogram(t *testing.T) {
	before := time.Now().Truncate(time.Second)
	status, body := f.call(t, "cryptogram", f.event(t, "cryptogram"))
	after := time.Now()
	wantStatus(t, status, http.StatusCreated, body)
	checkCryptogram(t, body, "TAVV")
	expires, err := time.Parse(time.RFC3339, str(body, "expiresAt"))
	if err != nil {
		t.Fatalf("expiresAt %q: %v", body["expiresAt"], err)
	}
	if expires.Before(before.Add(10*time.Minute)) || expires.After(after.Add(10*time.Minute)) {
		t.Errorf("expiresAt %v, want 10 minutes after the call (%v .. %v)", expires, before, after)
	}
	f.payCryptogram = str(body, "cryptogram")
	f.secrets = append(f.secrets, f.payCryptogram)
}

func (f *flow) authorize(t *testing.T) {
	status, body := f.call(t, "authorize", f.authorizeEvent(t))
	wantStatus(t, status, http.StatusCreated, body)
	apitest.WantMatch(t, body, "id", authorizationIDPat)
	apitest.WantField(t, body, "status", "approved")
	apitest.WantField(t, body, "networkTokenId", f.ntID)
	apitest.WantNumber(t, body, "amount", 1999)
	apitest.WantField(t, body, "currency", "EUR")
	if _, ok := body["declineReason"]; ok {
		t.Errorf("approved authorization has a declineReason: %v", body)
	}
}

func (f *flow) authorizeSpent(t *testing.T) {
	status, body := f.call(t, "authorize", f.authorizeEvent(t))
	wantStatus(t, status, http.StatusCreated, body)
	apitest.WantField(t, body, "status", "declined")
	apitest.WantField(t, body, "declineReason", "cryptogram_already_used")
}

// authorizeEvent is authorize.json paying with the cryptogram of the
// cryptogram step.
func (f *flow) authorizeEvent(t *testing.T) []byte {
	return f.event(t, "authorize", "cryptogram_example", f.payCryptogram)
}

func (f *flow) simulateReissue(t *testing.T) {
	status, body := f.call(t, "simulate", f.event(t, "simulate"))
	wantStatus(t, status, http.StatusOK, body)
	apitest.WantField(t, body, "event", "card_reissued")
	n, _ := body["notification"].(map[string]any)
	if n == nil || n["status"] != float64(http.StatusOK) {
		t.Errorf("notification = %v, want status 200", body["notification"])
	}
	nt, _ := body["networkToken"].(map[string]any)
	checkNetworkToken(t, nt, "visa", "active")
	f.newExpiry = str(nt, "tokenExpiryMonth") + "/" + str(nt, "tokenExpiryYear")
	oldMonth, oldYear, _ := strings.Cut(f.expiry, "/")
	newMonth, newYear, _ := strings.Cut(f.newExpiry, "/")
	if newYear <= oldYear || newMonth != oldMonth {
		t.Errorf("token expiry %s -> %s, want the same month in a later year", f.expiry, f.newExpiry)
	}
}

func (f *flow) suspend(t *testing.T) {
	status, body := f.call(t, "suspend", f.event(t, "suspend"))
	wantStatus(t, status, http.StatusOK, body)
	apitest.WantField(t, body, "networkTokenId", f.ntID)
	apitest.WantField(t, body, "status", "suspended")
}

func (f *flow) resume(t *testing.T) {
	status, body := f.call(t, "resume", f.event(t, "resume"))
	wantStatus(t, status, http.StatusOK, body)
	apitest.WantField(t, body, "networkTokenId", f.ntID)
	apitest.WantField(t, body, "status", "active")
}

func (f *flow) get(t *testing.T) {
	status, body := f.call(t, "get", f.event(t, "get"))
	wantStatus(t, status, http.StatusOK, body)
	checkNetworkToken(t, body, "visa", "active")
	apitest.WantField(t, body, "networkTokenId", f.ntID)
	apitest.WantField(t, body, "tokenExpiryMonth", strings.Split(f.newExpiry, "/")[0])
	apitest.WantField(t, body, "tokenExpiryYear", strings.Split(f.newExpiry, "/")[1])
	noCryptogram(t, body)
}

func (f *flow) delete(t *testing.T) {
	status, first := f.call(t, "delete", f.event(t, "delete"))
	wantStatus(t, status, http.StatusOK, first)
	checkNetworkToken(t, first, "visa", "deleted")
	noCryptogram(t, first)

	status, again := f.call(t, "delete", f.event(t, "delete"))
	wantStatus(t, status, http.StatusOK, again)
	apitest.WantField(t, again, "networkTokenId", f.ntID)
	apitest.WantField(t, again, "status", "deleted")
	apitest.WantField(t, again, "updatedAt", str(first, "updatedAt"))
}

func (f *flow) cryptogramAfterDelete(t *testing.T) {
	status, body := f.call(t, "cryptogram", f.event(t, "cryptogram"))
	wantStatus(t, status, http.StatusConflict, body)
	wantError(t, body, "token_not_active", "")
}

// notificationBadSignature sends notifications.json as it is: its
// signature is a placeholder, so the network's message is refused.
func (f *flow) notificationBadSignature(t *testing.T) {
	status, body := f.call(t, "notifications", f.event(t, "notifications"))
	wantStatus(t, status, http.StatusUnauthorized, body)
	wantError(t, body, "invalid_signature", "")
}

// event reads events/name.json and replaces every placeholder with the
// flow's value for it; extra are further old, new pairs, applied first
// (so they may override a placeholder). A placeholder left without a
// value fails the test: the step runs before the one that makes its id.
func (f *flow) event(t *testing.T, name string, extra ...string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../events/" + name + ".json")
	if err != nil {
		t.Fatalf("reading sample event: %v", err)
	}
	pairs := append([]string(nil), extra...)
	for _, p := range [][2]string{
		{"sk_example", f.merchantKey}, {"cs_example", f.secret}, {"sess_example", f.sessionID},
		{"tok_card_example", f.cardID}, {"nt_example", f.ntID}, {"cus_example", customerID},
	} {
		if p[1] != "" {
			pairs = append(pairs, p[0], p[1])
		}
	}
	out := strings.NewReplacer(pairs...).Replace(string(raw))
	for _, p := range placeholders {
		if strings.Contains(out, p) {
			t.Fatalf("events/%s.json: no value for %s yet", name, p)
		}
	}
	return []byte(out)
}

// call invokes an HTTP function with an API Gateway event and returns its
// status and JSON body. A Go error or panic in the handler fails the test.
func (f *flow) call(t *testing.T, fn string, event []byte) (int, map[string]any) {
	t.Helper()
	resp, err := f.fns[fn].InvokeHTTP(t.Context(), event)
	if err != nil {
		t.Fatalf("functions/%s: %v", fn, err)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/json" {
		t.Errorf("functions/%s: Content-Type %q, want application/json", fn, ct)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("functions/%s: status %d, body is not a JSON object: %q", fn, resp.StatusCode, resp.Body)
	}
	if resp.StatusCode >= 400 {
		checkErrorBody(t, body)
	}
	return resp.StatusCode, body
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
