package webhook_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/webhook"
)

// receiver is a merchant's endpoint on 127.0.0.1: it verifies the
// signature of every request with the secrets it knows, records what it
// got, and answers with the scripted statuses (200 once they run out).
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	secrets  []string
	statuses []int
	got      []delivery
}

// delivery is one request as the receiver saw it.
type delivery struct {
	Event     publish.Event
	Body      []byte
	Header    http.Header
	VerifyErr error
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{t: t, statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve)) // binds 127.0.0.1
	t.Cleanup(r.srv.Close)
	return r
}

// trust adds a secret the receiver accepts signatures from.
func (r *receiver) trust(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = append(r.secrets, secret)
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()

	d := delivery{Body: body, Header: req.Header.Clone(), VerifyErr: webhook.ErrSignatureMismatch}
	for _, s := range r.secrets {
		err := webhook.Verify(s, req.Header.Get(webhook.HeaderSignature), body, time.Now(),
			time.Minute)
		if err == nil {
			d.VerifyErr = nil
			break
		}
		d.VerifyErr = err
	}
	if err := json.Unmarshal(body, &d.Event); err != nil {
		r.t.Errorf("receiver: body is not an event: %v", err)
	}
	r.got = append(r.got, d)

	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	if status >= 300 && status < 400 {
		w.Header().Set("Location", r.srv.URL+"/redirected")
	}
	w.WriteHeader(status)
}

// deliveries returns what the receiver got so far.
func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func (r *receiver) url(path string) string { return r.srv.URL + path }
