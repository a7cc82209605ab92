package app_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/apitest"
	"github.com/atlas-network-tokens/atlas/shared/publish"
)

func unmarshalData(ev publish.Event, out any) error {
	raw, _ := ev.Data.(json.RawMessage)
	return json.Unmarshal(raw, out)
}

// TestEvents: creating and deleting a token publish one event each, with a
// fresh id, a known type, the time of the change and display data only.
func TestEvents(t *testing.T) {
	h := newHarness(t)
	s := h.newSession(h.key, "cus_ev")
	const number = "4111111111111111"
	cardID := h.tokenize(s, number)
	createdAt := h.clock()
	st, nt := h.provision(s, cardID, true)
	wantStatus(t, "provision", st, http.StatusCreated, nt)
	ntID := str(nt, "networkTokenId")
	h.provision(s, cardID, false) // no change, no event
	h.cryptogram(s, ntID)         // no change, no event

	h.advance(90 * time.Second)
	deletedAt := h.clock()
	for range 3 { // one change, however often asked
		if st, body := h.delete(s, ntID); st != http.StatusOK {
			t.Fatalf("delete: %d %v", st, body)
		}
	}

	evs := h.sweep()
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2: %s", len(evs), h.events.String())
	}
	want := []struct {
		typ    publish.Type
		status string
		at     time.Time
	}{
		{publish.NetworkTokenCreated, "active", createdAt},
		{publish.NetworkTokenDeleted, "deleted", deletedAt},
	}
	ids := map[string]bool{}
	for i, w := range want {
		ev := evs[i]
		if !eventIDPattern.MatchString(ev.ID) || ids[ev.ID] {
			t.Errorf("event %d id %q: not evt_ and 32 hex digits, or repeated", i, ev.ID)
		}
		ids[ev.ID] = true
		if ev.Type != w.typ || ev.MerchantID != merchantID || !ev.CreatedAt.Equal(w.at) {
			t.Errorf("event %d: %s %s %s, want %s %s %s", i, ev.Type, ev.MerchantID,
				ev.CreatedAt, w.typ, merchantID, w.at)
		}
		var data map[string]any
		if err := unmarshalData(ev, &data); err != nil {
			t.Fatalf("event %d data: %v", i, err)
		}
		apitest.WantField(t, data, "networkTokenId", ntID)
		apitest.WantField(t, data, "network", "visa")
		apitest.WantField(t, data, "status", w.status)
		if w.typ == publish.NetworkTokenCreated {
			apitest.WantField(t, data, "cardTokenId", cardID)
			apitest.WantField(t, data, "cardLast4", "1111")
			apitest.WantField(t, data, "tokenLast4", str(nt, "tokenLast4"))
		}
	}

	// The outbox is empty once published: a second sweep sends nothing.
	if again := h.sweep(); len(again) != 2 {
		t.Errorf("second sweep republished: %d events in all", len(again))
	}
}
