package app_test

import (
	"context"
	"net/http"
	"testing"
)

// The handler benchmarks run the real code path (strict decoding, session
// check, DynamoDB and KMS over HTTP on loopback) against the in-process
// emulators, so they measure our code plus the SDK and the emulators, not
// AWS latency. Compare them side by side in one run:
//
//	go test ./shared/app -run '^$' -bench Handler -count 5

func BenchmarkHandlerCryptogram(b *testing.B) {
	h := newHarness(b)
	s := h.newSession(h.key, "cus_bench")
	ntID := h.networkToken(s, "4242424242424242")
	handler := h.app.Handlers.CreateCryptogram()
	req := request("POST", ntPath(ntID)+"/cryptogram", s.auth, ntID, nil, `{"session_id":`+quote(s.id)+`}`)

	b.ResetTimer()
	for b.Loop() {
		resp, err := handler(context.Background(), req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("cryptogram: %v %d %s", err, resp.StatusCode, resp.Body)
		}
	}
}

func BenchmarkHandlerGetNetworkToken(b *testing.B) {
	h := newHarness(b)
	s := h.newSession(h.key, "cus_bench")
	ntID := h.networkToken(s, "5555555555554444")
	handler := h.app.Handlers.GetNetworkToken()
	req := request("GET", ntPath(ntID), s.auth, ntID, map[string]string{"session_id": s.id}, "")

	b.ResetTimer()
	for b.Loop() {
		resp, err := handler(context.Background(), req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("get: %v %d %s", err, resp.StatusCode, resp.Body)
		}
	}
}

func BenchmarkHandlerTokenize(b *testing.B) {
	h := newHarness(b)
	s := h.newSession(h.key, "cus_bench")
	handler := h.app.Handlers.CreateCardToken()
	req := request("POST", pathTokens, s.auth, "", nil, cardBody(s.id, "4242424242424242", 12, h.clock().Year()+2))

	b.ResetTimer()
	for b.Loop() {
		resp, err := handler(context.Background(), req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("tokenize: %v %d %s", err, resp.StatusCode, resp.Body)
		}
	}
}
