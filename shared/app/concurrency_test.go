package app_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/httpapi"
	"github.com/atlas-network-tokens/atlas/shared/publish"
)

const parallelCalls = 20

// result is one concurrent call's outcome.
type result struct {
	status int
	body   map[string]any
	err    error
}

// concurrently sends n copies of a request at once and returns the outcomes.
func concurrently(n int, handler httpapi.Handler, req events.APIGatewayV2HTTPRequest) []result {
	out := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			resp, err := handler(context.Background(), req)
			if err != nil {
				out[i] = result{err: err}
				return
			}
			body, err := checkResponse(resp)
			out[i] = result{status: resp.StatusCode, body: body, err: err}
		})
	}
	close(start)
	wg.Wait()
	return out
}

func countEvents(evs []publish.Event, typ publish.Type, ntID string) int {
	n := 0
	for _, ev := range evs {
		var data struct {
			NetworkTokenID string `json:"networkTokenId"`
		}
		if ev.Type == typ && unmarshalData(ev, &data) == nil && data.NetworkTokenID == ntID {
			n++
		}
	}
	return n
}

// TestConcurrentProvisioning: racing requests for one card make one token.
func TestConcurrentProvisioning(t *testing.T) {
	h := newHarness(t)
	s := h.newSession(h.key, "cus_race")
	cardID := h.tokenize(s, "4242424242424242")

	req := request("POST", pathNetworkTokens, s.auth, "", nil, provisionBody(s.id, cardID, false))
	results := concurrently(parallelCalls, h.app.Handlers.CreateNetworkToken(), req)
	created, ids := 0, map[string]bool{}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("call %d: %v", i, r.err)
		}
		switch r.status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("call %d: status %d: %v", i, r.status, r.body)
		}
		ids[str(r.body, "networkTokenId")] = true
	}
	if created != 1 || len(ids) != 1 {
		t.Fatalf("%d calls created, %d distinct ids; want 1 and 1", created, len(ids))
	}
	var ntID string
	for id := range ids {
		ntID = id
	}

	pending, err := h.app.Store.PendingOutbox(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 {
		t.Errorf("outbox holds %d events, want 1", len(pending))
	}
	if n := countEvents(h.sweep(), publish.NetworkTokenCreated, ntID); n != 1 {
		t.Errorf("%d created events for %s, want 1", n, ntID)
	}
}

// TestConcurrentCryptograms: racing cryptogram requests each get their own
// value.
func TestConcurrentCryptograms(t *testing.T) {
	h := newHarness(t)
	s := h.newSession(h.key, "cus_race")
	ntID := h.networkToken(s, "5555555555554444")

	req := request("POST", ntPath(ntID)+"/cryptogram", s.auth, ntID, nil, `{"session_id":`+quote(s.id)+`}`)
	results := concurrently(parallelCalls, h.app.Handlers.CreateCryptogram(), req)
	values := map[string]bool{}
	for i, r := range results {
		if r.err != nil || r.status != http.StatusCreated {
			t.Fatalf("call %d: %d %v %v", i, r.status, r.err, r.body)
		}
		checkCryptogramValue(t, str(r.body, "cryptogram"), 0x00)
		values[str(r.body, "cryptogram")] = true
	}
	if len(values) != parallelCalls {
		t.Errorf("%d distinct cryptograms from %d calls", len(values), parallelCalls)
	}
}

// TestConcurrentDelete: racing deletes all answer deleted; one event.
func TestConcurrentDelete(t *testing.T) {
	h := newHarness(t)
	s := h.newSession(h.key, "cus_race")
	ntID := h.networkToken(s, "378282246310005")

	req := request("DELETE", ntPath(ntID), s.auth, ntID, map[string]string{"session_id": s.id}, "")
	results := concurrently(parallelCalls, h.app.Handlers.DeleteNetworkToken(), req)
	for i, r := range results {
		if r.err != nil || r.status != http.StatusOK || str(r.body, "status") != "deleted" {
			t.Fatalf("call %d: %d %v %v", i, r.status, r.err, r.body)
		}
		sameBody(t, "concurrent delete", results[0].body, r.body)
	}
	evs := h.sweep()
	if n := countEvents(evs, publish.NetworkTokenDeleted, ntID); n != 1 {
		t.Errorf("%d deleted events, want 1", n)
	}
	if n := countEvents(evs, publish.NetworkTokenCreated, ntID); n != 1 {
		t.Errorf("%d created events, want 1", n)
	}
}
