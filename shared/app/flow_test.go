package app_test

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/apitest"
	"github.com/atlas-network-tokens/atlas/shared/card"
	"github.com/atlas-network-tokens/atlas/shared/networks"
)

// schemeFacts is what the published flow promises per network: the
// network's name in the API, its cryptogram type and ECI, and the first byte
// of the decoded 20-byte cryptogram.
var schemeFacts = map[card.Brand]struct {
	network        string
	cryptogramType string
	eci            string
	formatByte     byte
}{
	card.Visa:       {"visa", "TAVV", "07", 0x01},
	card.Mastercard: {"mastercard", "UCAF", "06", 0x00},
	card.Amex:       {"amex", "TOKEN_DATA_BLOCK_A", "05", 0x02},
}

var (
	twoDigits  = regexp.MustCompile(`^(0[1-9]|1[0-2])$`)
	fourDigits = regexp.MustCompile(`^[0-9]{4}$`)
	parPattern = regexp.MustCompile(`^[0-9A-Z]{29}$`)
)

func approvedCards() []networks.TestCard {
	var out []networks.TestCard
	for _, tc := range networks.TestCards {
		if tc.Behaviour == networks.BehaviourApprove {
			out = append(out, tc)
		}
	}
	return out
}

// TestPublishedFlow walks every route of the published API for every test
// card the sandbox approves, checking each field of each answer.
func TestPublishedFlow(t *testing.T) {
	h := newHarness(t)
	for _, tc := range approvedCards() {
		t.Run(tc.Description+" "+last4(tc.Number), func(t *testing.T) {
			h.t = t
			runFlow(t, h, tc)
		})
	}
}

func runFlow(t *testing.T, h *harness, tc networks.TestCard) {
	facts, ok := schemeFacts[tc.Brand]
	if !ok {
		t.Fatalf("no scheme facts for brand %q", tc.Brand)
	}
	hs := h.app.Handlers
	now := h.clock()

	// POST /sessions
	st, sess := h.call(hs.CreateSession(), "POST", pathSessions, "Bearer "+h.key, "", nil,
		`{"customer_id":"cus_flow"}`)
	wantStatus(t, "create session", st, http.StatusCreated, sess)
	apitest.WantMatch(t, sess, "id", sessionIDPattern)
	apitest.WantMatch(t, sess, "clientSecret", clientSecretPattern)
	apitest.WantField(t, sess, "customerId", "cus_flow")
	apitest.WantField(t, sess, "expiresAt", now.Add(24*time.Hour).Format(time.RFC3339))
	wantKeys(t, sess, "id", "clientSecret", "customerId", "expiresAt")
	s := session{id: str(sess, "id"), auth: "Bearer " + str(sess, "clientSecret")}

	// POST /tokens
	year := now.Year() + 3
	st, ct := h.call(hs.CreateCardToken(), "POST", pathTokens, s.auth, "", nil,
		cardBody(s.id, tc.Number, 7, year))
	wantStatus(t, "tokenize", st, http.StatusCreated, ct)
	apitest.WantMatch(t, ct, "id", cardTokenIDPattern)
	apitest.WantField(t, ct, "brand", string(tc.Brand))
	apitest.WantField(t, ct, "last4", tc.Number[len(tc.Number)-4:])
	apitest.WantNumber(t, ct, "expMonth", 7)
	apitest.WantNumber(t, ct, "expYear", year)
	wantKeys(t, ct, "id", "brand", "last4", "expMonth", "expYear")
	cardID := str(ct, "id")

	// POST /network-tokens with a cryptogram
	st, nt := h.provision(s, cardID, true)
	wantStatus(t, "provision", st, http.StatusCreated, nt)
	ntID := str(nt, "networkTokenId")
	checkNetworkToken(t, nt, tc, facts.network, "active", now)
	checkCryptogram(t, nt, facts.cryptogramType, facts.eci, facts.formatByte)

	// The same card again: the live token, nothing provisioned.
	st, again := h.provision(s, cardID, false)
	wantStatus(t, "provision again", st, http.StatusOK, again)
	apitest.WantField(t, again, "networkTokenId", ntID)
	noCryptogram(t, again)
	for _, f := range []string{"tokenLast4", "paymentAccountReference", "tokenExpiryMonth", "createdAt"} {
		apitest.WantField(t, again, f, str(nt, f))
	}
	st, withCg := h.provision(s, cardID, true)
	wantStatus(t, "provision again with cryptogram", st, http.StatusOK, withCg)
	apitest.WantField(t, withCg, "networkTokenId", ntID)
	checkCryptogram(t, withCg, facts.cryptogramType, facts.eci, facts.formatByte)

	// POST /network-tokens/{id}/cryptogram, twice: new values each time.
	seen := map[string]bool{str(nt, "cryptogram"): true, str(withCg, "cryptogram"): true}
	for i := range 2 {
		st, cg := h.cryptogram(s, ntID)
		wantStatus(t, "cryptogram", st, http.StatusCreated, cg)
		checkCryptogramBody(t, cg, facts.cryptogramType, facts.eci, facts.formatByte, now)
		if v := str(cg, "cryptogram"); seen[v] {
			t.Errorf("cryptogram %d repeats an earlier value", i)
		} else {
			seen[v] = true
		}
	}

	// GET: the token, no cryptogram.
	st, got := h.get(s, ntID)
	wantStatus(t, "get", st, http.StatusOK, got)
	checkNetworkToken(t, got, tc, facts.network, "active", now)
	noCryptogram(t, got)

	// DELETE twice: the same answer.
	h.advance(time.Minute)
	st, del := h.delete(s, ntID)
	wantStatus(t, "delete", st, http.StatusOK, del)
	checkNetworkToken(t, del, tc, facts.network, "deleted", now)
	apitest.WantField(t, del, "updatedAt", now.Add(time.Minute).Format(time.RFC3339))
	noCryptogram(t, del)
	h.advance(time.Minute)
	st, del2 := h.delete(s, ntID)
	wantStatus(t, "delete again", st, http.StatusOK, del2)
	sameBody(t, "second delete", del, del2)

	// Never a cryptogram after deletion.
	st, cg := h.cryptogram(s, ntID)
	wantStatus(t, "cryptogram after delete", st, http.StatusConflict, cg)
	if code, _ := errorOf(cg); code != "token_not_active" {
		t.Errorf("cryptogram after delete: code %q, want token_not_active", code)
	}
	st, gone := h.get(s, ntID)
	wantStatus(t, "get after delete", st, http.StatusOK, gone)
	apitest.WantField(t, gone, "status", "deleted")
	noCryptogram(t, gone)

	// A deleted token frees the card for a new one.
	st, fresh := h.provision(s, cardID, false)
	wantStatus(t, "provision after delete", st, http.StatusCreated, fresh)
	if id := str(fresh, "networkTokenId"); id == ntID {
		t.Errorf("provisioning after delete returned the deleted token %s", id)
	}
	apitest.WantField(t, fresh, "status", "active")
}

func checkNetworkToken(t *testing.T, nt map[string]any, tc networks.TestCard,
	network, status string, created time.Time) {
	t.Helper()
	apitest.WantMatch(t, nt, "networkTokenId", networkTokenIDPattern)
	apitest.WantField(t, nt, "network", network)
	apitest.WantField(t, nt, "status", status)
	apitest.WantMatch(t, nt, "tokenExpiryMonth", twoDigits)
	apitest.WantMatch(t, nt, "tokenExpiryYear", fourDigits)
	month, _ := strconv.Atoi(str(nt, "tokenExpiryMonth"))
	year, _ := strconv.Atoi(str(nt, "tokenExpiryYear"))
	if year*12+month < created.Year()*12+int(created.Month()) {
		t.Errorf("token expiry %02d/%d is already past", month, year)
	}
	apitest.WantMatch(t, nt, "tokenLast4", fourDigits)
	apitest.WantField(t, nt, "cardLast4", tc.Number[len(tc.Number)-4:])
	apitest.WantMatch(t, nt, "paymentAccountReference", parPattern)
	apitest.WantField(t, nt, "createdAt", created.Format(time.RFC3339))
}

// checkCryptogram checks the cryptogram fields of a provisioning answer.
func checkCryptogram(t *testing.T, body map[string]any, typ, eci string, format byte) {
	t.Helper()
	apitest.WantField(t, body, "cryptogramType", typ)
	apitest.WantField(t, body, "eci", eci)
	checkCryptogramValue(t, str(body, "cryptogram"), format)
}

// checkCryptogramBody checks a POST …/cryptogram answer.
func checkCryptogramBody(t *testing.T, body map[string]any, typ, eci string, format byte, now time.Time) {
	t.Helper()
	checkCryptogram(t, body, typ, eci, format)
	apitest.WantField(t, body, "expiresAt", now.Add(10*time.Minute).Format(time.RFC3339))
	wantKeys(t, body, "cryptogram", "cryptogramType", "eci", "expiresAt")
}

// checkCryptogramValue checks the wire form: 28 Base64 characters that
// decode to 20 bytes starting with the network's format byte.
func checkCryptogramValue(t *testing.T, value string, format byte) {
	t.Helper()
	if len(value) != 28 {
		t.Errorf("cryptogram %q has %d characters, want 28", value, len(value))
		return
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(value)
	if err != nil || len(raw) != 20 {
		t.Errorf("cryptogram %q is not 20 bytes of Base64 (%v)", value, err)
		return
	}
	if raw[0] != format {
		t.Errorf("cryptogram format byte %#x, want %#x", raw[0], format)
	}
}

func noCryptogram(t *testing.T, body map[string]any) {
	t.Helper()
	for _, f := range []string{"cryptogram", "cryptogramType", "eci", "cryptogramExpiresAt"} {
		if _, ok := body[f]; ok {
			t.Errorf("body has %s, want none: %v", f, body)
		}
	}
}

func wantStatus(t *testing.T, what string, got, want int, body map[string]any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d: %v", what, got, want, body)
	}
}

// wantKeys checks that body has exactly these keys.
func wantKeys(t *testing.T, body map[string]any, keys ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
		if _, ok := body[k]; !ok {
			t.Errorf("body lacks %s: %v", k, body)
		}
	}
	for k := range body {
		if !want[k] {
			t.Errorf("body has unexpected field %s: %v", k, body)
		}
	}
}

func sameBody(t *testing.T, what string, a, b map[string]any) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("%s: %v, want %v", what, b, a)
		return
	}
	for k, v := range a {
		if b[k] != v {
			t.Errorf("%s: %s = %v, want %v", what, k, b[k], v)
		}
	}
}
