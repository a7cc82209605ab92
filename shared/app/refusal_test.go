package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/networks"
)

// TestProvisionRefusals provisions every test card the sandbox refuses: each
// is a 422 with its code, twice in a row (a refusal leaves no claim behind),
// and queues no event.
func TestProvisionRefusals(t *testing.T) {
	h := newHarness(t)
	s := h.newSession(h.key, "cus_refused")
	codes := map[networks.Behaviour]string{
		networks.BehaviourDecline:      "network_declined",
		networks.BehaviourRequiresAuth: "requires_additional_authentication",
		networks.BehaviourNotSupported: "network_not_supported",
	}
	refused := 0
	for _, tc := range networks.TestCards {
		if tc.Behaviour == networks.BehaviourApprove {
			continue
		}
		refused++
		t.Run(tc.Description+" "+last4(tc.Number), func(t *testing.T) {
			h.t = t
			want, ok := codes[tc.Behaviour]
			if !ok {
				t.Fatalf("no expected code for behaviour %q", tc.Behaviour)
			}
			cardID := h.tokenize(s, tc.Number)
			for attempt := range 2 {
				st, body := h.provision(s, cardID, true)
				if st != http.StatusUnprocessableEntity {
					t.Fatalf("attempt %d: status %d, want 422: %v", attempt, st, body)
				}
				if code, _ := errorOf(body); code != want {
					t.Errorf("attempt %d: code %q, want %q", attempt, code, want)
				}
			}
		})
	}
	if refused == 0 {
		t.Fatal("networks.TestCards has no refused cards")
	}
	h.t = t
	if evs := h.sweep(); len(evs) != 0 {
		t.Errorf("refusals published %d events, want none", len(evs))
	}
}

// TestCardExpiredAtProvisioning stores a card in its last valid month and
// provisions it after that month has ended: the network refuses with
// card_expired.
func TestCardExpiredAtProvisioning(t *testing.T) {
	h := newHarness(t)
	now := h.clock()
	s := h.newSession(h.key, "cus_late")
	st, ct := h.call(h.app.Handlers.CreateCardToken(), "POST", pathTokens, s.auth, "", nil,
		cardBody(s.id, "4242424242424242", int(now.Month()), now.Year()))
	wantStatus(t, "tokenize in the expiry month", st, http.StatusCreated, ct)

	h.advance(32 * 24 * time.Hour)
	later := h.newSession(h.key, "cus_late")
	st, body := h.provision(later, str(ct, "id"), false)
	wantStatus(t, "provision after expiry", st, http.StatusUnprocessableEntity, body)
	if code, _ := errorOf(body); code != "card_expired" {
		t.Errorf("code %q, want card_expired", code)
	}
}
