package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// Single use holds on the production path too: of 50 concurrent sandbox
// authorizations with one cryptogram against moto, exactly one is approved.
func TestCryptogramSingleUseOnAWSEmulators(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	s := h.newSession(h.key, "cus_single_use")
	ntID := h.networkToken(s, "4242424242424242")
	status, body := h.cryptogram(s, ntID)
	if status != http.StatusCreated {
		t.Fatalf("cryptogram: %d %v", status, body)
	}
	payload, _ := json.Marshal(map[string]any{
		"session_id": s.id, "network_token_id": ntID, "cryptogram": body["cryptogram"],
		"amount": 1250, "currency": "GBP",
	})

	const racers = 50
	results := make(chan string, racers)
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			req := request("POST", "/functions/v1/sandbox/authorizations", s.auth, "", nil, string(payload))
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
			results <- fmt.Sprint(resp.StatusCode, " ", out["status"], "/", out["declineReason"])
		})
	}
	wg.Wait()
	close(results)

	counts := map[string]int{}
	for r := range results {
		counts[r]++
	}
	if counts["201 approved/<nil>"] != 1 || counts["201 declined/cryptogram_already_used"] != racers-1 {
		t.Fatalf("outcomes %v: want exactly one approval and %d already-used declines", counts, racers-1)
	}
}
