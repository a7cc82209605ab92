package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/secret"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// Id and secret prefixes.
const (
	PrefixEndpoint = "we_"
	PrefixSecret   = "whsec_"
)

// MaxEndpoints is how many endpoints one merchant may register. The check
// reads before it writes, so two registrations racing at the limit can
// both pass; it bounds fan-out, it is not a quota.
const MaxEndpoints = 16

// purposeSecret is the envelope purpose of a sealed signing secret.
const purposeSecret = "webhook_secret"

var endpointIDPattern = regexp.MustCompile(`^we_[0-9a-f]{32}$`)

// Sealer is the envelope encryption the registry needs.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, ec envelope.Context) ([]byte, error)
	Open(ctx context.Context, sealed []byte, ec envelope.Context) ([]byte, error)
}

// Endpoint is a registered endpoint as its merchant sees it. An empty
// Events list means every event type.
type Endpoint struct {
	ID        string
	URL       string
	Events    []publish.Type
	CreatedAt time.Time
}

// Subscribed reports whether the endpoint takes events of type t.
func (e Endpoint) Subscribed(t publish.Type) bool {
	return len(e.Events) == 0 || slices.Contains(e.Events, t)
}

// Registry keeps merchants' endpoints in the store, with signing secrets
// sealed under envelope.Context{Merchant, Record: endpoint id, Purpose:
// "webhook_secret"}.
type Registry struct {
	store  *store.Store
	sealer Sealer
	policy Policy
	now    func() time.Time
}

// NewRegistry returns a Registry. policy decides which URLs it accepts;
// now nil means time.Now.
func NewRegistry(st *store.Store, sealer Sealer, policy Policy, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{store: st, sealer: sealer, policy: policy, now: now}
}

// Register checks the URL and event types, makes an id and a signing
// secret, and stores the endpoint with the secret sealed. The secret is
// returned here and never again. Bad input is a fault.ErrInvalid naming
// the param: url, events or events[i].
func (r *Registry) Register(ctx context.Context, merchantID, rawURL string,
	types []publish.Type) (Endpoint, secret.Value, error) {
	if err := r.policy.Check(rawURL); err != nil {
		return Endpoint{}, secret.Value{}, err
	}
	types, err := checkTypes(types)
	if err != nil {
		return Endpoint{}, secret.Value{}, err
	}
	existing, err := r.store.WebhookEndpoints(ctx, merchantID)
	if err != nil {
		return Endpoint{}, secret.Value{}, err
	}
	if len(existing) >= MaxEndpoints {
		return Endpoint{}, secret.Value{}, fault.New(fault.ErrRefused, "too_many_endpoints",
			"A merchant can register at most "+strconv.Itoa(MaxEndpoints)+
				" webhook endpoints; delete one first.")
	}

	ep := Endpoint{ID: PrefixEndpoint + randomHex(16), URL: rawURL, Events: types,
		CreatedAt: r.now().UTC().Truncate(time.Second)}
	signing := PrefixSecret + randomHex(32)
	sealed, err := r.sealer.Seal(ctx, []byte(signing), secretContext(merchantID, ep.ID))
	if err != nil {
		return Endpoint{}, secret.Value{}, fmt.Errorf("sealing webhook secret: %w", err)
	}
	rec := store.WebhookEndpoint{
		ID: ep.ID, MerchantID: merchantID, URL: ep.URL, Events: typeStrings(types),
		SealedSecret: sealed, CreatedAt: ep.CreatedAt.Format(time.RFC3339),
	}
	if err := r.store.PutWebhookEndpoint(ctx, rec); err != nil {
		return Endpoint{}, secret.Value{}, fmt.Errorf("storing webhook endpoint: %w", err)
	}
	return ep, secret.New(signing), nil
}

// List returns a merchant's endpoints, without secrets.
func (r *Registry) List(ctx context.Context, merchantID string) ([]Endpoint, error) {
	recs, err := r.store.WebhookEndpoints(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	out := make([]Endpoint, 0, len(recs))
	for _, rec := range recs {
		out = append(out, endpointOf(rec))
	}
	return out, nil
}

// Delete removes one of a merchant's endpoints. An unknown id, or another
// merchant's, is the same fault.ErrNotFound.
func (r *Registry) Delete(ctx context.Context, merchantID, id string) error {
	if !endpointIDPattern.MatchString(id) {
		return errNoEndpoint
	}
	err := r.store.DeleteWebhookEndpoint(ctx, merchantID, id)
	if errors.Is(err, fault.ErrNotFound) {
		return errNoEndpoint
	}
	return err
}

var errNoEndpoint = fault.Param(fault.ErrNotFound, "resource_not_found", "id",
	"No such webhook endpoint.")

// Targets returns the merchant's endpoints subscribed to t, with their
// secrets opened. It implements Directory.
func (r *Registry) Targets(ctx context.Context, merchantID string,
	t publish.Type) ([]Target, error) {
	recs, err := r.store.WebhookEndpoints(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	var out []Target
	for _, rec := range recs {
		if !endpointOf(rec).Subscribed(t) {
			continue
		}
		plain, err := r.sealer.Open(ctx, rec.SealedSecret, secretContext(merchantID, rec.ID))
		if err != nil {
			return nil, fmt.Errorf("opening secret of %s: %w", rec.ID, err)
		}
		out = append(out, Target{EndpointID: rec.ID, URL: rec.URL, Secret: secret.New(string(plain))})
		clear(plain)
	}
	return out, nil
}

func secretContext(merchantID, endpointID string) envelope.Context {
	return envelope.Context{Merchant: merchantID, Record: endpointID, Purpose: purposeSecret}
}

func endpointOf(rec store.WebhookEndpoint) Endpoint {
	ep := Endpoint{ID: rec.ID, URL: rec.URL}
	for _, t := range rec.Events {
		ep.Events = append(ep.Events, publish.Type(t))
	}
	ep.CreatedAt, _ = time.Parse(time.RFC3339, rec.CreatedAt)
	return ep
}

// checkTypes refuses unknown types and drops repeats, keeping order.
func checkTypes(types []publish.Type) ([]publish.Type, error) {
	var out []publish.Type
	for i, t := range types {
		if !t.Known() {
			param := "events[" + strconv.Itoa(i) + "]"
			return nil, fault.Param(fault.ErrInvalid, "unknown_event_type", param,
				param+" must be one of "+strings.Join(typeStrings(eventTypes), ", ")+".")
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// eventTypes lists what an endpoint can subscribe to, for error messages.
var eventTypes = []publish.Type{
	publish.NetworkTokenCreated, publish.NetworkTokenUpdated, publish.NetworkTokenSuspended,
	publish.NetworkTokenResumed, publish.NetworkTokenDeleted,
}

// typeStrings returns nil for no types, so that the store omits the
// attribute rather than writing an empty list.
func typeStrings(types []publish.Type) []string {
	var out []string
	for _, t := range types {
		out = append(out, string(t))
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read does not fail since Go 1.24; it crashes instead.
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
