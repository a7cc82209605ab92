package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/secret"
	"github.com/atlas-network-tokens/atlas/shared/webhook"
)

const (
	secretA = "whsec_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	secretB = "whsec_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	// bodyMarker is in every test event's data, to prove bodies stay out
	// of logs.
	bodyMarker = "nt_bodymarker0000000000000000000"
)

// staticDirectory is a hand-written Directory: the same targets for every
// merchant and type.
type staticDirectory []webhook.Target

func (d staticDirectory) Targets(context.Context, string, publish.Type) ([]webhook.Target, error) {
	return d, nil
}

func testEvent(t *testing.T, typ publish.Type) publish.Event {
	t.Helper()
	ev, err := publish.NewEvent(typ, "mer_1", map[string]string{"networkTokenId": bodyMarker},
		time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// fastDispatcher retries after a millisecond and may reach loopback.
func fastDispatcher(dir webhook.Directory, logs *bytes.Buffer) *webhook.Dispatcher {
	return webhook.NewDispatcher(webhook.DispatcherConfig{
		Directory: dir,
		Client:    webhook.NewClient(webhook.Policy{AllowLoopback: true}),
		BaseDelay: time.Millisecond,
		Log:       logging.New(logs, "debug"),
	})
}

func TestDeliverRetries(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		attempts int
		want     error // nil, webhook.ErrPermanent or fault.ErrUnavailable
	}{
		{"200 at once", []int{200}, 1, nil},
		{"204 at once", []int{204}, 1, nil},
		{"500 twice then 200", []int{500, 500, 200}, 3, nil},
		{"429 then 202", []int{429, 202}, 2, nil},
		{"408 then 200", []int{408, 200}, 2, nil},
		{"503 every time", []int{503, 503, 503, 200}, 3, fault.ErrUnavailable},
		{"400 is not retried", []int{400, 200}, 1, webhook.ErrPermanent},
		{"410 is not retried", []int{410, 200}, 1, webhook.ErrPermanent},
		{"redirect is not followed", []int{302, 200}, 1, webhook.ErrPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newReceiver(t, tt.statuses...)
			rcv.trust(secretA)
			var logs bytes.Buffer
			d := fastDispatcher(staticDirectory{
				{EndpointID: "we_a", URL: rcv.url("/hook"), Secret: secret.New(secretA)},
			}, &logs)
			ev := testEvent(t, publish.NetworkTokenCreated)

			err := d.Deliver(context.Background(), ev)
			if tt.want == nil && err != nil {
				t.Fatalf("Deliver = %v, want nil", err)
			}
			if tt.want != nil && (!errors.Is(err, tt.want) || !strings.Contains(err.Error(), "we_a")) {
				t.Fatalf("Deliver = %v, want one wrapping %v and naming we_a", err, tt.want)
			}
			got := rcv.deliveries()
			if len(got) != tt.attempts {
				t.Fatalf("receiver got %d requests, want %d", len(got), tt.attempts)
			}
			want, _ := json.Marshal(ev)
			for i, dl := range got {
				checkDelivery(t, i, dl, ev, want)
			}
			checkLogs(t, logs.String(), ev.ID, "we_a", secretA)
		})
	}
}

// checkDelivery asserts one request was a signed POST of exactly the event.
func checkDelivery(t *testing.T, i int, dl delivery, ev publish.Event, wantBody []byte) {
	t.Helper()
	if dl.VerifyErr != nil {
		t.Errorf("request %d: signature: %v", i, dl.VerifyErr)
	}
	if !bytes.Equal(dl.Body, wantBody) {
		t.Errorf("request %d: body %s, want %s", i, dl.Body, wantBody)
	}
	h := dl.Header
	if h.Get("Content-Type") != "application/json" || h.Get("User-Agent") != webhook.UserAgent ||
		h.Get(webhook.HeaderEventID) != ev.ID || h.Get(webhook.HeaderEventType) != string(ev.Type) {
		t.Errorf("request %d: headers %v", i, h)
	}
}

// checkLogs asserts the log names the event and endpoint and holds neither
// the secret nor the body.
func checkLogs(t *testing.T, logs, eventID, endpointID, signing string) {
	t.Helper()
	// The log scrubber masks any 12+ digit run, which a hex event id can
	// hold; look for the id as the scrubber leaves it.
	for _, want := range []string{logging.ScrubLogText(eventID), endpointID, `"attempt":`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, leak := range []string{signing, bodyMarker, "127.0.0.1"} {
		if strings.Contains(logs, leak) {
			t.Errorf("logs contain %q:\n%s", leak, logs)
		}
	}
}

func TestDeliverToSeveralEndpoints(t *testing.T) {
	ok := newReceiver(t)
	ok.trust(secretA)
	refusing := newReceiver(t, 400)
	refusing.trust(secretB)
	var logs bytes.Buffer
	d := fastDispatcher(staticDirectory{
		{EndpointID: "we_ok", URL: ok.url("/a"), Secret: secret.New(secretA)},
		{EndpointID: "we_refusing", URL: refusing.url("/b"), Secret: secret.New(secretB)},
	}, &logs)
	ev := testEvent(t, publish.NetworkTokenDeleted)

	err := d.Deliver(context.Background(), ev)
	if !errors.Is(err, webhook.ErrPermanent) || !strings.Contains(err.Error(), "we_refusing") ||
		strings.Contains(err.Error(), "we_ok") {
		t.Fatalf("Deliver = %v, want a permanent failure of we_refusing only", err)
	}
	for name, r := range map[string]*receiver{"ok": ok, "refusing": refusing} {
		got := r.deliveries()
		if len(got) != 1 || got[0].VerifyErr != nil {
			t.Errorf("%s receiver: %d requests, %+v", name, len(got), got)
		}
	}
}

func TestDeliverNetworkFailures(t *testing.T) {
	// A port that was free a moment ago: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/hook"
	ln.Close()

	hanging := newReceiverFunc(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(300 * time.Millisecond):
		}
	})
	slowClient := webhook.NewClient(webhook.Policy{AllowLoopback: true})
	slowClient.Timeout = 50 * time.Millisecond

	tests := []struct {
		name   string
		url    string
		client *http.Client
	}{
		{"connection refused", closed, webhook.NewClient(webhook.Policy{AllowLoopback: true})},
		{"timeout", hanging + "/hook", slowClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			d := webhook.NewDispatcher(webhook.DispatcherConfig{
				Directory: staticDirectory{{EndpointID: "we_x", URL: tt.url, Secret: secret.New(secretA)}},
				Client:    tt.client, BaseDelay: time.Millisecond, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
			})
			err := d.Deliver(context.Background(), testEvent(t, publish.NetworkTokenCreated))
			if !errors.Is(err, fault.ErrUnavailable) || !strings.Contains(err.Error(), "after 3 attempts") {
				t.Fatalf("Deliver = %v, want unavailable after 3 attempts", err)
			}
			if n := strings.Count(logs.String(), "webhook attempt failed"); n != 3 {
				t.Errorf("logged %d failed attempts, want 3", n)
			}
		})
	}
}

func newReceiverFunc(t *testing.T, fn http.HandlerFunc) string {
	t.Helper()
	rcv := newReceiver(t)
	rcv.srv.Config.Handler = fn
	return rcv.srv.URL
}

// Without AllowLoopback the client refuses to connect to 127.0.0.1, even
// though the URL was never checked by a Policy.
func TestDeliverRefusesBlockedAddresses(t *testing.T) {
	rcv := newReceiver(t)
	var logs bytes.Buffer
	d := webhook.NewDispatcher(webhook.DispatcherConfig{
		Directory: staticDirectory{{EndpointID: "we_x", URL: rcv.url("/"), Secret: secret.New(secretA)}},
		BaseDelay: time.Millisecond, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	err := d.Deliver(context.Background(), testEvent(t, publish.NetworkTokenCreated))
	if err == nil || !strings.Contains(err.Error(), "refused address") {
		t.Fatalf("Deliver = %v, want a refused address", err)
	}
	if n := len(rcv.deliveries()); n != 0 {
		t.Errorf("receiver got %d requests", n)
	}
}

func TestDeliverStopsWhenCancelled(t *testing.T) {
	rcv := newReceiver(t, 500, 500, 500)
	d := webhook.NewDispatcher(webhook.DispatcherConfig{
		Directory: staticDirectory{{EndpointID: "we_x", URL: rcv.url("/"), Secret: secret.New(secretA)}},
		Client:    webhook.NewClient(webhook.Policy{AllowLoopback: true}),
		BaseDelay: time.Hour, Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := d.Deliver(ctx, testEvent(t, publish.NetworkTokenCreated))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Deliver = %v, want the context's deadline", err)
	}
	if n := len(rcv.deliveries()); n != 1 {
		t.Errorf("receiver got %d requests, want 1 before the wait", n)
	}
}

func TestDeliverRefusesInvalidEvents(t *testing.T) {
	d := fastDispatcher(staticDirectory{}, &bytes.Buffer{})
	good := testEvent(t, publish.NetworkTokenCreated)
	noID, badType, noMerchant := good, good, good
	noID.ID, badType.Type, noMerchant.MerchantID = "", "network_token.frozen", ""
	for _, ev := range []publish.Event{noID, badType, noMerchant} {
		if err := d.Deliver(context.Background(), ev); err == nil {
			t.Errorf("Deliver(%+v) succeeded", ev)
		}
	}
}
