package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/apitest"
	"github.com/atlas-network-tokens/atlas/shared/app"
	"github.com/atlas-network-tokens/atlas/shared/devstack"
	"github.com/atlas-network-tokens/atlas/shared/httpapi"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/secret"
	"github.com/atlas-network-tokens/atlas/shared/webhook"
)

// service is the whole App on the in-process dev stack, delivering
// webhooks in process as the dev server does.
type service struct {
	t     *testing.T
	app   *app.App
	stack *devstack.Stack
	key   string // the merchant's secret key
	logs  *apitest.Buffer
}

func newService(t *testing.T, extra ...webhook.Target) *service {
	t.Helper()
	stack, err := devstack.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("starting dev stack: %v", err)
	}
	t.Cleanup(func() { stack.Close() })
	lines, err := publish.NewJSONLines(&bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	s := &service{t: t, stack: stack, logs: &apitest.Buffer{},
		key: "sk_test_" + strings.Repeat("cd", 24)}
	cfg := app.Config{Table: stack.Table, KeyID: stack.KeyID, EventBus: "unused",
		Stage: app.StageSandbox}
	b := app.Backends{DynamoDB: stack.DynamoDB, KMS: stack.KMS, Publisher: lines}
	s.app = app.New(cfg, b, logging.New(s.logs, "debug"), app.Options{
		LocalWebhooks: &webhook.DispatcherConfig{Extra: extra, BaseDelay: time.Millisecond},
	})
	if err := s.app.Service.RegisterMerchantKey(context.Background(), "mer_hooks", s.key); err != nil {
		t.Fatal(err)
	}
	return s
}

// call invokes a handler as API Gateway would and decodes the JSON answer.
func (s *service) call(h httpapi.Handler, method, auth, id string, query map[string]string,
	body string) (int, map[string]any) {
	s.t.Helper()
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", Body: body,
		Headers:               map[string]string{"content-type": "application/json"},
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-webhook-test",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method},
		},
	}
	if auth != "" {
		req.Headers["authorization"] = auth
	}
	if id != "" {
		req.PathParameters = map[string]string{"id": id}
	}
	resp, err := h(context.Background(), req)
	if err != nil {
		s.t.Fatalf("%s returned a Go error: %v", method, err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		s.t.Fatalf("%s: body is not JSON: %q", method, resp.Body)
	}
	return resp.StatusCode, out
}

// register adds an endpoint through the API and returns its id and secret.
func (s *service) register(url string, types ...publish.Type) (string, string) {
	s.t.Helper()
	body := map[string]any{"url": url}
	if len(types) > 0 {
		body["events"] = types
	}
	raw, _ := json.Marshal(body)
	status, out := s.call(s.app.Handlers.WebhookEndpoints(), "POST", "Bearer "+s.key, "", nil,
		string(raw))
	if status != 201 {
		s.t.Fatalf("registering %s: %d %v", url, status, out)
	}
	return out["id"].(string), out["secret"].(string)
}

// TestLifecycleWebhooks runs the published flow through the handlers,
// sweeps the outbox, and checks that every endpoint got exactly the events
// it asked for, each signed with its own secret. To cover a new lifecycle
// event, add a step.
func TestLifecycleWebhooks(t *testing.T) {
	all := newReceiver(t)         // registered for every type
	deletedOnly := newReceiver(t) // registered for network_token.deleted
	devURL := newReceiver(t)      // the dev server's ATLAS_WEBHOOK_URL
	devSecret := "whsec_" + strings.Repeat("0f", 32)
	devURL.trust(devSecret)
	s := newService(t, webhook.Target{EndpointID: "dev", URL: devURL.url("/dev"),
		Secret: secret.New(devSecret)})

	_, allSecret := s.register(all.url("/all"))
	all.trust(allSecret)
	_, delSecret := s.register(deletedOnly.url("/deleted"), publish.NetworkTokenDeleted)
	deletedOnly.trust(delSecret)

	f := &flow{s: s}
	steps := []struct {
		name string
		run  func()
		want []publish.Type // events the step publishes
	}{
		{"session, card token, network token", f.provision, []publish.Type{publish.NetworkTokenCreated}},
		{"cryptogram", f.cryptogram, nil},
		{"card reissued", f.simulate("card_reissued"), []publish.Type{publish.NetworkTokenUpdated}},
		{"merchant suspends", f.post("suspend", f.s.app.Handlers.SuspendNetworkToken()),
			[]publish.Type{publish.NetworkTokenSuspended}},
		{"merchant resumes", f.post("resume", f.s.app.Handlers.ResumeNetworkToken()),
			[]publish.Type{publish.NetworkTokenResumed}},
		{"issuer suspends", f.simulate("issuer_suspended"), []publish.Type{publish.NetworkTokenSuspended}},
		{"issuer resumes", f.simulate("issuer_resumed"), []publish.Type{publish.NetworkTokenResumed}},
		{"card number changed", f.simulate("card_number_changed"), []publish.Type{publish.NetworkTokenUpdated}},
		{"delete", f.delete, []publish.Type{publish.NetworkTokenDeleted}},
	}
	var want []publish.Type
	for _, step := range steps {
		step.run()
		want = append(want, step.want...)
	}
	if _, err := s.app.Relay.Sweep(context.Background()); err != nil {
		t.Fatalf("relay sweep: %v", err)
	}

	checkReceived(t, "all", all, want, f.tokenID)
	checkReceived(t, "deleted only", deletedOnly, []publish.Type{publish.NetworkTokenDeleted}, f.tokenID)
	checkReceived(t, "ATLAS_WEBHOOK_URL", devURL, want, f.tokenID)
	for _, leak := range []string{allSecret, delSecret, devSecret} {
		if strings.Contains(s.logs.String(), leak) {
			t.Errorf("logs contain a signing secret")
		}
	}
}

// checkReceived asserts r got one verified delivery per wanted type, in
// any order, each about the token, with distinct ids.
func checkReceived(t *testing.T, name string, r *receiver, want []publish.Type, tokenID string) {
	t.Helper()
	got := r.deliveries()
	count := map[publish.Type]int{}
	ids := map[string]bool{}
	for _, d := range got {
		if d.VerifyErr != nil {
			t.Errorf("%s: %s: signature: %v", name, d.Event.ID, d.VerifyErr)
		}
		if ids[d.Event.ID] {
			t.Errorf("%s: event id %s delivered twice", name, d.Event.ID)
		}
		ids[d.Event.ID] = true
		count[d.Event.Type]++
		var data map[string]any
		raw, _ := json.Marshal(d.Event.Data)
		_ = json.Unmarshal(raw, &data)
		if data["networkTokenId"] != tokenID || d.Event.MerchantID != "mer_hooks" {
			t.Errorf("%s: %s is about %v of %s", name, d.Event.Type, data["networkTokenId"],
				d.Event.MerchantID)
		}
	}
	wantCount := map[publish.Type]int{}
	for _, w := range want {
		wantCount[w]++
	}
	if fmt.Sprint(count) != fmt.Sprint(wantCount) {
		t.Errorf("%s got %v, want %v", name, count, wantCount)
	}
}

// flow is the published API flow, step by step.
type flow struct {
	s         *service
	auth, sid string
	tokenID   string
}

func (f *flow) provision() {
	s, hs := f.s, f.s.app.Handlers
	st, sess := s.call(hs.CreateSession(), "POST", "Bearer "+s.key, "", nil, `{"customer_id":"cus_1"}`)
	if st != 201 {
		s.t.Fatalf("session: %d %v", st, sess)
	}
	f.auth, f.sid = "Bearer "+sess["clientSecret"].(string), sess["id"].(string)
	st, card := s.call(hs.CreateCardToken(), "POST", f.auth, "", nil,
		`{"session_id":"`+f.sid+`","card":{"number":"4242424242424242","exp_month":12,"exp_year":2030}}`)
	if st != 201 {
		s.t.Fatalf("card token: %d %v", st, card)
	}
	st, nt := s.call(hs.CreateNetworkToken(), "POST", f.auth, "", nil,
		`{"session_id":"`+f.sid+`","token_id":"`+card["id"].(string)+`"}`)
	if st != 201 {
		s.t.Fatalf("network token: %d %v", st, nt)
	}
	f.tokenID = nt["networkTokenId"].(string)
}

func (f *flow) cryptogram() {
	st, cg := f.s.call(f.s.app.Handlers.CreateCryptogram(), "POST", f.auth, f.tokenID, nil,
		`{"session_id":"`+f.sid+`"}`)
	if st != 201 {
		f.s.t.Fatalf("cryptogram: %d %v", st, cg)
	}
}

// simulate returns a step that plays a sandbox issuer event on the token.
func (f *flow) simulate(event string) func() {
	return f.post("simulate "+event, f.s.app.Handlers.Simulate(), `"event":"`+event+`"`)
}

// post returns a step that POSTs {session_id, extra…} to a token route.
func (f *flow) post(name string, h httpapi.Handler, extra ...string) func() {
	return func() {
		body := `{"session_id":"` + f.sid + `"`
		for _, e := range extra {
			body += "," + e
		}
		st, out := f.s.call(h, "POST", f.auth, f.tokenID, nil, body+"}")
		if st != 200 {
			f.s.t.Fatalf("%s: %d %v", name, st, out)
		}
	}
}

func (f *flow) delete() {
	st, out := f.s.call(f.s.app.Handlers.DeleteNetworkToken(), "DELETE", f.auth, f.tokenID,
		map[string]string{"session_id": f.sid}, "")
	if st != 200 {
		f.s.t.Fatalf("delete: %d %v", st, out)
	}
}

// The registry keeps secrets sealed, opens the right one per endpoint, and
// keeps merchants apart.
func TestRegistry(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	reg := s.app.Webhooks

	everything, secretAll, err := reg.Register(ctx, "mer_1", "https://a.example.com/hook", nil)
	if err != nil {
		t.Fatal(err)
	}
	created, secretCreated, err := reg.Register(ctx, "mer_1", "https://b.example.com/hook",
		[]publish.Type{publish.NetworkTokenCreated, publish.NetworkTokenCreated})
	if err != nil {
		t.Fatal(err)
	}
	if len(created.Events) != 1 {
		t.Errorf("repeated type kept: %v", created.Events)
	}
	if _, _, err := reg.Register(ctx, "mer_2", "https://c.example.com/hook", nil); err != nil {
		t.Fatal(err)
	}

	targets := func(merchant string, typ publish.Type) map[string]string {
		ts, err := reg.Targets(ctx, merchant, typ)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, tg := range ts {
			out[tg.EndpointID] = tg.Secret.Reveal()
		}
		return out
	}
	if got := targets("mer_1", publish.NetworkTokenCreated); len(got) != 2 ||
		got[everything.ID] != secretAll.Reveal() || got[created.ID] != secretCreated.Reveal() {
		t.Errorf("created targets = %d endpoints", len(got))
	}
	if got := targets("mer_1", publish.NetworkTokenSuspended); len(got) != 1 ||
		got[everything.ID] == "" {
		t.Errorf("suspended targets = %v", keys(got))
	}
	if got := targets("mer_3", publish.NetworkTokenCreated); len(got) != 0 {
		t.Errorf("a merchant without endpoints has targets %v", keys(got))
	}

	checkSealed(t, s, secretAll.Reveal(), secretCreated.Reveal())

	if err := reg.Delete(ctx, "mer_2", everything.ID); err == nil {
		t.Error("another merchant deleted mer_1's endpoint")
	}
	if err := reg.Delete(ctx, "mer_1", everything.ID); err != nil {
		t.Fatal(err)
	}
	if err := reg.Delete(ctx, "mer_1", everything.ID); err == nil {
		t.Error("deleted the same endpoint twice")
	}
	if got := targets("mer_1", publish.NetworkTokenSuspended); len(got) != 0 {
		t.Errorf("deleted endpoint still a target: %v", keys(got))
	}
}

// checkSealed scans the raw table: no item may hold a secret in any form
// but sealed.
func checkSealed(t *testing.T, s *service, secrets ...string) {
	t.Helper()
	out, err := s.stack.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{
		TableName: aws.String(s.stack.Table),
	})
	if err != nil {
		t.Fatal(err)
	}
	var sealed int
	for _, item := range out.Items {
		for name, v := range item {
			var raw string
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				raw = v.Value
			case *types.AttributeValueMemberB:
				raw = string(v.Value)
			}
			for _, sec := range secrets {
				if strings.Contains(raw, sec) || strings.Contains(raw, "whsec_") ||
					strings.Contains(raw, strings.TrimPrefix(sec, "whsec_")) {
					t.Errorf("attribute %s holds a signing secret in clear", name)
				}
			}
			if name == "sealedSecret" {
				sealed++
			}
		}
	}
	if sealed < len(secrets) {
		t.Errorf("%d sealed secrets in the table, want at least %d", sealed, len(secrets))
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
