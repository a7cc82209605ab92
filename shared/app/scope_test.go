package app_test

import (
	"net/http"
	"testing"

	"github.com/atlas-network-tokens/atlas/shared/apitest"
)

// TestScope: a token belongs to the merchant and customer of the session
// that made it. Any other session sees the same 404 as for a token that does
// not exist; a session of the same merchant and customer sees it.
func TestScope(t *testing.T) {
	h := newHarness(t)
	owner := h.newSession(h.key, "cus_a")
	cardID := h.tokenize(owner, "4242424242424242")
	st, nt := h.provision(owner, cardID, false)
	wantStatus(t, "provision", st, http.StatusCreated, nt)
	ntID := str(nt, "networkTokenId")
	otherKey := h.merchantKey("mer_other")

	strangers := []struct {
		name string
		s    session
	}{
		{"same merchant, other customer", h.newSession(h.key, "cus_b")},
		{"same merchant, no customer", h.newSession(h.key, "")},
		{"other merchant, same customer id", h.newSession(otherKey, "cus_a")},
		{"other merchant, no customer", h.newSession(otherKey, "")},
	}
	for _, sc := range strangers {
		t.Run(sc.name, func(t *testing.T) {
			h.t = t
			checks := []struct {
				op    string
				param string
				call  func() (int, map[string]any)
			}{
				{"GET", "id", func() (int, map[string]any) { return h.get(sc.s, ntID) }},
				{"DELETE", "id", func() (int, map[string]any) { return h.delete(sc.s, ntID) }},
				{"cryptogram", "id", func() (int, map[string]any) { return h.cryptogram(sc.s, ntID) }},
				{"provision", "token_id", func() (int, map[string]any) { return h.provision(sc.s, cardID, true) }},
			}
			for _, c := range checks {
				st, body := c.call()
				code, param := errorOf(body)
				if st != http.StatusNotFound || code != "resource_not_found" || param != c.param {
					t.Errorf("%s: %d %s param=%q, want 404 resource_not_found param=%q",
						c.op, st, code, param, c.param)
				}
			}
		})
	}

	h.t = t
	sibling := h.newSession(h.key, "cus_a")
	st, got := h.get(sibling, ntID)
	wantStatus(t, "GET from a sibling session", st, http.StatusOK, got)
	apitest.WantField(t, got, "status", "active")
	st, again := h.provision(sibling, cardID, false)
	wantStatus(t, "provision from a sibling session", st, http.StatusOK, again)
	apitest.WantField(t, again, "networkTokenId", ntID)

	evs := h.sweep()
	if len(evs) != 1 || evs[0].Type != "network_token.created" {
		t.Errorf("events after strangers' attempts: %+v, want one created event", evs)
	}
}
