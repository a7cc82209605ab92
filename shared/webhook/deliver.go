package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/secret"
)

// Delivery defaults.
const (
	DefaultAttempts  = 3
	DefaultBaseDelay = time.Second
	// UserAgent is sent with every delivery.
	UserAgent = "Atlas-Webhooks/1"
	// maxParallel bounds how many endpoints one event is sent to at once.
	maxParallel = 4
	// maxResponseRead is how much of a response body is read (and thrown
	// away) so that the connection can be reused.
	maxResponseRead = 64 << 10
)

// Target is where one delivery goes: an endpoint's URL and its signing
// secret.
type Target struct {
	EndpointID string
	URL        string
	Secret     secret.Value
}

// Directory finds the targets of a merchant's event; Registry is one.
type Directory interface {
	Targets(ctx context.Context, merchantID string, t publish.Type) ([]Target, error)
}

// DispatcherConfig holds a Dispatcher's collaborators and limits. Zero
// values take the defaults.
type DispatcherConfig struct {
	Directory Directory        // the merchants' endpoints; may be nil
	Extra     []Target         // get every event of every merchant (dev: ATLAS_WEBHOOK_URL)
	Client    *http.Client     // nil: NewClient(Policy{})
	Attempts  int              // tries per endpoint; 0: DefaultAttempts
	BaseDelay time.Duration    // wait before the second try, doubling after; 0: DefaultBaseDelay
	Log       *slog.Logger     // nil: slog.Default()
	Now       func() time.Time // signing clock; nil: time.Now
}

// Dispatcher sends events to webhook endpoints.
type Dispatcher struct {
	c DispatcherConfig
}

// NewDispatcher returns a Dispatcher.
func NewDispatcher(c DispatcherConfig) *Dispatcher {
	if c.Client == nil {
		c.Client = NewClient(Policy{})
	}
	if c.Attempts <= 0 {
		c.Attempts = DefaultAttempts
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = DefaultBaseDelay
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Dispatcher{c: c}
}

// ErrPermanent marks a delivery the endpoint refused with a status that
// retrying will not change: a 3xx or a 4xx other than 408 and 429.
var ErrPermanent = errors.New("webhook: endpoint refused the event")

// Deliver POSTs the event as JSON to every endpoint of its merchant that
// takes its type, and to the extra targets, at most maxParallel at a time.
// Each endpoint gets up to Attempts tries: a network error, a timeout, 408,
// 429 or a 5xx is tried again after BaseDelay, then twice that, and so on,
// each wait jittered down by up to half; any 2xx is success; any other
// status is a permanent failure (ErrPermanent) and is not retried.
//
// The error names every endpoint that did not take the event, so that the
// caller (EventBridge's retry, then the dead-letter queue) can try again
// later; endpoints that did take it then get it again, which consumers
// drop by event id. Logs carry the event and endpoint ids, status and
// attempt, never the body or the secret.
func (d *Dispatcher) Deliver(ctx context.Context, ev publish.Event) error {
	if ev.ID == "" || !ev.Type.Known() || ev.MerchantID == "" {
		return fmt.Errorf("deliver event %q: not a valid event", ev.ID)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("deliver event %s: encoding: %w", ev.ID, err)
	}
	targets := append([]Target(nil), d.c.Extra...)
	if d.c.Directory != nil {
		registered, err := d.c.Directory.Targets(ctx, ev.MerchantID, ev.Type)
		if err != nil {
			return fmt.Errorf("deliver event %s: finding endpoints: %w", ev.ID, err)
		}
		targets = append(targets, registered...)
	}

	errs := make([]error, len(targets))
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = d.send(ctx, ev, t, body)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("deliver event %s: %w", ev.ID, err)
	}
	return nil
}

// send delivers to one target with retries.
func (d *Dispatcher) send(ctx context.Context, ev publish.Event, t Target, body []byte) error {
	log := d.c.Log.With("event_id", ev.ID, "event_type", string(ev.Type), "endpoint_id", t.EndpointID)
	var last error
	for attempt := 1; attempt <= d.c.Attempts; attempt++ {
		if attempt > 1 {
			if err := sleep(ctx, d.backoff(attempt-1)); err != nil {
				return fmt.Errorf("endpoint %s: %w after %d attempts", t.EndpointID, err, attempt-1)
			}
		}
		status, err := d.post(ctx, ev, t, body)
		switch {
		case err == nil:
			log.Info("webhook delivered", "status", status, "attempt", attempt)
			return nil
		case errors.Is(err, ErrPermanent):
			log.Warn("webhook refused", "status", status, "attempt", attempt)
			return fmt.Errorf("endpoint %s: %w (status %d)", t.EndpointID, err, status)
		}
		last = err
		log.Warn("webhook attempt failed", "status", status, "attempt", attempt,
			"error", err.Error())
	}
	return fmt.Errorf("endpoint %s: %w after %d attempts: %w",
		t.EndpointID, fault.ErrUnavailable, d.c.Attempts, last)
}

// post makes one attempt. It returns the status (0 without a response), nil
// for a 2xx, an error wrapping ErrPermanent for a status not worth
// retrying, and any other error for one that is.
func (d *Dispatcher) post(ctx context.Context, ev publish.Event, t Target, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("building request: %w", ErrPermanent)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEventID, ev.ID)
	req.Header.Set(HeaderEventType, string(ev.Type))
	req.Header.Set(HeaderSignature, Sign(t.Secret.Reveal(), d.c.Now(), body))

	resp, err := d.c.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("sending: %w", redactURL(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	resp.Body.Close()

	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return code, nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return code, errors.New("status " + strconv.Itoa(code))
	default:
		return code, ErrPermanent
	}
}

// redactURL drops the URL from a client error: a merchant's URL may carry
// a token of theirs in its path or query, which has no place in our logs.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// backoff is the wait before retry n (1 for the second attempt): BaseDelay
// doubled n-1 times, less a random part of up to half, so that endpoints
// that failed together do not all retry together.
func (d *Dispatcher) backoff(n int) time.Duration {
	full := d.c.BaseDelay << (n - 1)
	return full - time.Duration(rand.Int64N(int64(full)/2+1))
}

func sleep(ctx context.Context, wait time.Duration) error {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
