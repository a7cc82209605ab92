package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/networks"
	"github.com/atlas-network-tokens/atlas/shared/publish"
)

// flowToken is what the published flow made for one test card.
type flowToken struct {
	card     networks.TestCard
	ntID     string
	tokenPAN string
}

// The published flow on moto and local-kms for every approving test card:
// session, card token, network token with a cryptogram, another
// cryptogram, get, delete; the relay then publishes through EventBridge
// and the test queue receives every event. Afterwards the raw table holds
// no PAN, token PAN, cryptogram or secret, and the records that expire
// carry expiresAt.
func TestPublishedFlowOnAWSEmulators(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	ctx := context.Background()
	forbidden := []string{h.key}
	var made []flowToken

	for _, tc := range networks.TestCards {
		if tc.Behaviour != networks.BehaviourApprove {
			continue
		}
		s := h.newSession(h.key, "cus_"+tc.Number[len(tc.Number)-4:])
		forbidden = append(forbidden, tc.Number, strings.TrimPrefix(s.auth, "Bearer "))

		status, nt := h.provision(s, h.tokenize(s, tc.Number), true)
		if status != http.StatusCreated || str(nt, "cryptogram") == "" {
			t.Fatalf("%s: provisioning: %d %v", tc.Description, status, nt)
		}
		ntID := str(nt, "networkTokenId")
		status, cg := h.cryptogram(s, ntID)
		if status != http.StatusCreated || str(cg, "cryptogram") == "" {
			t.Fatalf("%s: cryptogram: %d %v", tc.Description, status, cg)
		}
		forbidden = append(forbidden, str(nt, "cryptogram"), str(cg, "cryptogram"))

		rec, err := h.app.Store.NetworkToken(ctx, ntID)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := e.provider(networks.Network(rec.Network)).Token(ctx, rec.Reference)
		if err != nil {
			t.Fatalf("%s: token at the network: %v", tc.Description, err)
		}
		tokenPAN := tok.TokenPAN.Reveal()
		if tokenPAN == tc.Number || tok.TokenPAN.Last4() != str(nt, "tokenLast4") {
			t.Fatalf("%s: token PAN does not match the API's last4 %s", tc.Description,
				str(nt, "tokenLast4"))
		}
		forbidden = append(forbidden, tokenPAN)

		if status, got := h.get(s, ntID); status != http.StatusOK || str(got, "status") != "active" {
			t.Fatalf("%s: get: %d %v", tc.Description, status, got)
		}
		if status, del := h.delete(s, ntID); status != http.StatusOK ||
			str(del, "status") != "deleted" {
			t.Fatalf("%s: delete: %d %v", tc.Description, status, del)
		}
		made = append(made, flowToken{card: tc, ntID: ntID, tokenPAN: tokenPAN})
	}
	if len(made) < 5 {
		t.Fatalf("only %d approving test cards", len(made))
	}

	n, err := h.app.Relay.Sweep(ctx)
	if err != nil || n != 2*len(made) {
		t.Fatalf("sweep published %d events (%v), want %d", n, err, 2*len(made))
	}
	checkDelivered(t, e.receive(2*len(made)), made, forbidden)
	if pending, _ := h.app.Store.PendingOutbox(ctx, 100); len(pending) != 0 {
		t.Errorf("%d outbox entries left after the sweep", len(pending))
	}
	checkRawTable(t, e, forbidden)
}

// checkDelivered holds the queue's deliveries to one created and one
// deleted event per token, with the service's source and the event type as
// detail-type, and no secret anywhere in the message.
func checkDelivered(t *testing.T, got []delivery, made []flowToken, forbidden []string) {
	t.Helper()
	seen := map[string]map[publish.Type]bool{}
	for _, d := range got {
		if d.Source != publish.Source || d.DetailType != string(d.event.Type) {
			t.Errorf("event %s: source %q detail-type %q", d.event.ID, d.Source, d.DetailType)
		}
		for _, f := range forbidden {
			if strings.Contains(d.Body, f) {
				t.Errorf("event %s carries a secret (…%s)", d.event.ID, f[len(f)-4:])
			}
		}
		var data struct {
			NetworkTokenID string `json:"networkTokenId"`
		}
		raw, _ := d.event.Data.(map[string]any)
		data.NetworkTokenID, _ = raw["networkTokenId"].(string)
		if seen[data.NetworkTokenID] == nil {
			seen[data.NetworkTokenID] = map[publish.Type]bool{}
		}
		seen[data.NetworkTokenID][d.event.Type] = true
	}
	for _, m := range made {
		got := seen[m.ntID]
		if !got[publish.NetworkTokenCreated] || !got[publish.NetworkTokenDeleted] {
			t.Errorf("%s: events for %s: %v, want created and deleted", m.card.Description,
				m.ntID, got)
		}
	}
}

// checkRawTable scans the table as stored: no forbidden value in any
// attribute, and sessions and cryptogram issues carry expiresAt.
func checkRawTable(t *testing.T, e *awsEnv, forbidden []string) {
	t.Helper()
	items := e.scan()
	sessions, issues := 0, 0
	for _, item := range items {
		pk, sk := stringAttr(item, "pk"), stringAttr(item, "sk")
		if where := leaks(pk+"/"+sk, &types.AttributeValueMemberM{Value: item},
			forbidden); where != "" {
			t.Errorf("stored %s", where)
		}
		if strings.HasPrefix(pk, "SESS#") || strings.HasPrefix(sk, "CRYPTO#") {
			if _, ok := item["expiresAt"].(*types.AttributeValueMemberN); !ok {
				t.Errorf("%s/%s has no numeric expiresAt", pk, sk)
			}
		}
		switch {
		case strings.HasPrefix(pk, "SESS#"):
			sessions++
		case strings.HasPrefix(sk, "CRYPTO#"):
			issues++
		}
	}
	if sessions == 0 || issues == 0 {
		t.Errorf("scanned %d items: %d sessions, %d cryptogram issues", len(items), sessions,
			issues)
	}
}

// Moto never deletes items whose TTL passed. With the clock 25 hours on,
// every read path still treats the expired session and cryptogram as
// absent: every session route answers 401, and a payment with the old
// cryptogram (under a fresh session) is declined as expired.
func TestExpiredRecordsAreAbsentOnAWSEmulators(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	s := h.newSession(h.key, "cus_expiry")
	status, nt := h.provision(s, h.tokenize(s, "4242424242424242"), true)
	if status != http.StatusCreated {
		t.Fatalf("provisioning: %d %v", status, nt)
	}
	ntID, cryptogram := str(nt, "networkTokenId"), str(nt, "cryptogram")

	h.advance(25 * time.Hour)
	if len(e.itemsWithPK("SESS#"+s.id)) != 1 {
		t.Fatal("moto removed the expired session; this test needs it lingering")
	}
	hs := h.app.Handlers
	sid := quote(s.id)
	calls := []struct {
		name    string
		handler func() (int, map[string]any)
	}{
		{"tokenize", func() (int, map[string]any) {
			return h.call(hs.CreateCardToken(), "POST", pathTokens, s.auth, "", nil,
				cardBody(s.id, "4111111111111111", 12, 2031))
		}},
		{"provision", func() (int, map[string]any) { return h.provision(s, "tok_card_x", false) }},
		{"cryptogram", func() (int, map[string]any) { return h.cryptogram(s, ntID) }},
		{"get", func() (int, map[string]any) { return h.get(s, ntID) }},
		{"delete", func() (int, map[string]any) { return h.delete(s, ntID) }},
		{"suspend", func() (int, map[string]any) {
			return h.call(hs.SuspendNetworkToken(), "POST", ntPath(ntID)+"/suspend", s.auth,
				ntID, nil, `{"session_id":`+sid+`}`)
		}},
		{"resume", func() (int, map[string]any) {
			return h.call(hs.ResumeNetworkToken(), "POST", ntPath(ntID)+"/resume", s.auth,
				ntID, nil, `{"session_id":`+sid+`}`)
		}},
		{"simulate", func() (int, map[string]any) {
			return h.call(hs.Simulate(), "POST", "/simulate", s.auth, ntID, nil,
				`{"session_id":`+sid+`,"event":"card_reissued"}`)
		}},
		{"authorize", func() (int, map[string]any) {
			return h.authorize(s, ntID, cryptogram)
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			status, body := c.handler()
			if status != http.StatusUnauthorized {
				t.Errorf("expired session: %d %v, want 401", status, body)
			}
		})
	}

	fresh := h.newSession(h.key, "cus_expiry")
	status, auth := h.authorize(fresh, ntID, cryptogram)
	if status != http.StatusCreated || str(auth, "declineReason") != "cryptogram_expired" {
		t.Errorf("old cryptogram under a fresh session: %d %v, want declined as expired",
			status, auth)
	}
	status, got := h.get(fresh, ntID)
	if status != http.StatusOK || str(got, "status") != "active" {
		t.Errorf("the token itself does not expire: %d %v", status, got)
	}
}

func (h *harness) authorize(s session, ntID, cryptogram string) (int, map[string]any) {
	h.t.Helper()
	body := `{"session_id":` + quote(s.id) + `,"network_token_id":` + quote(ntID) +
		`,"cryptogram":` + quote(cryptogram) + `,"amount":1000,"currency":"EUR"}`
	return h.call(h.app.Handlers.Authorize(), "POST", "/functions/v1/sandbox/authorizations",
		s.auth, "", nil, body)
}
