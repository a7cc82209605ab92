package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/eventschema"
)

// networkCards are a test card of each network.
var networkCards = []struct{ network, number string }{
	{"visa", "4242424242424242"},
	{"mastercard", "5555555555554444"},
	{"amex", "378282246310005"},
}

// lifecycleStep is one state change of a token's life and the type of
// the one event it must yield.
type lifecycleStep struct {
	name     string
	run      func(t *testing.T, f tokenFixture) (int, map[string]any)
	wantType string
}

// simulated is a change the issuer makes, played by the sandbox network.
func simulated(event, wantType string) lifecycleStep {
	return lifecycleStep{name: event, wantType: wantType,
		run: func(t *testing.T, f tokenFixture) (int, map[string]any) {
			return f.simulate(t, event)
		}}
}

// The merchant's changes.
var (
	merchantSuspends = lifecycleStep{name: "merchant suspends", wantType: "network_token.suspended",
		run: func(t *testing.T, f tokenFixture) (int, map[string]any) {
			return f.post(t, f.h.app.Handlers.SuspendNetworkToken(), "")
		}}
	merchantResumes = lifecycleStep{name: "merchant resumes", wantType: "network_token.resumed",
		run: func(t *testing.T, f tokenFixture) (int, map[string]any) {
			return f.post(t, f.h.app.Handlers.ResumeNetworkToken(), "")
		}}
	merchantDeletes = lifecycleStep{name: "merchant deletes", wantType: "network_token.deleted",
		run: func(t *testing.T, f tokenFixture) (int, map[string]any) {
			return f.h.call(f.h.app.Handlers.DeleteNetworkToken(), "DELETE", ntPath(f.ntID),
				f.auth, f.ntID, map[string]string{"session_id": f.sessionID}, "")
		}}
)

// fullLifecycle takes a token through every change the service reports,
// after the created event.
var fullLifecycle = []lifecycleStep{
	simulated("card_reissued", "network_token.updated"),
	simulated("card_number_changed", "network_token.updated"),
	simulated("issuer_suspended", "network_token.suspended"),
	simulated("issuer_resumed", "network_token.resumed"),
	merchantSuspends,
	merchantResumes,
	merchantDeletes,
}

// do performs the step on the fixture's token; the clock moves on first,
// since networks stamp each change with their own time.
func (s lifecycleStep) do(t *testing.T, f tokenFixture) {
	t.Helper()
	f.h.advance(time.Second)
	if status, body := s.run(t, f); status != http.StatusOK {
		t.Fatalf("%s: %d %v", s.name, status, body)
	}
}

// publishedLines sweeps the outbox and returns each published event as the
// bytes the publisher wrote.
func publishedLines(t *testing.T, h *harness) []string {
	t.Helper()
	if _, err := h.app.Relay.Sweep(context.Background()); err != nil {
		t.Fatalf("relay sweep: %v", err)
	}
	return strings.Split(strings.TrimSpace(h.events.String()), "\n")
}

// Every event the service emits, through every change of a token's life on
// every network, matches the JSON Schema of its type.
func TestEmittedEventsMatchTheirSchemas(t *testing.T) {
	schemas, err := eventschema.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, card := range networkCards {
		t.Run(card.network, func(t *testing.T) {
			h := newHarness(t)
			full := newToken(t, h, card.number)
			for _, step := range fullLifecycle {
				step.do(t, full)
			}
			// Two more ends: deleting a suspended token, and the issuer
			// closing the account.
			suspendedThenDeleted := newToken(t, h, card.number)
			merchantSuspends.do(t, suspendedThenDeleted)
			merchantDeletes.do(t, suspendedThenDeleted)
			closed := newToken(t, h, card.number)
			simulated("account_closed", "network_token.deleted").do(t, closed)

			counts := map[string]int{}
			for _, line := range publishedLines(t, h) {
				if err := schemas.Validate([]byte(line)); err != nil {
					t.Errorf("%v\nevent: %s", err, line)
				}
				if strings.Contains(line, card.number) {
					t.Errorf("event shows the card number: %s", line)
				}
				var ev struct{ Type string }
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("event %q: %v", line, err)
				}
				counts[ev.Type]++
			}
			want := map[string]int{
				"network_token.created": 3, "network_token.updated": 2,
				"network_token.suspended": 3, "network_token.resumed": 2,
				"network_token.deleted": 3,
			}
			for typ, n := range want {
				if counts[typ] != n {
					t.Errorf("%d %s events, want %d (all: %v)", counts[typ], typ, n, counts)
				}
			}
		})
	}
}
