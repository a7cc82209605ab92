package functions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/atlas-network-tokens/atlas/shared/apitest"
	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/lambdatest"
	"github.com/atlas-network-tokens/atlas/shared/networks"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/relay"
	"github.com/atlas-network-tokens/atlas/shared/signature"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// notificationTime is the statusTimestamp in notifications.json. The step
// that signs the sample moves it to now: the token it names was made after
// it, and a notification older than the token's last change is ignored.
const notificationTime = "2025-01-21T12:00:00Z"

// notificationSigned tokenizes the Mastercard test card, then sends
// notifications.json for that token, signed as the sandbox network signs
// (with the secret derived from the sandbox root key in the table), and
// sees the issuer's suspension applied.
func (f *flow) notificationSigned(t *testing.T) {
	status, card := f.call(t, "tokenize", f.event(t, "tokenize", visaCard, mastercardCard))
	wantStatus(t, status, http.StatusCreated, card)
	apitest.WantField(t, card, "brand", "mastercard")
	status, nt := f.call(t, "provision", f.event(t, "provision", "tok_card_example", str(card, "id")))
	wantStatus(t, status, http.StatusCreated, nt)
	checkNetworkToken(t, nt, "mastercard", "active")
	checkCryptogram(t, nt, "UCAF")
	f.secrets = append(f.secrets, str(nt, "cryptogram"))
	f.mcNetworkTokenID = str(nt, "networkTokenId")

	rec, err := f.app.Store.NetworkToken(t.Context(), f.mcNetworkTokenID)
	if err != nil {
		t.Fatalf("reading the token's network reference: %v", err)
	}
	text := f.event(t, "notifications", "reference_example", rec.Reference,
		notificationTime, time.Now().UTC().Format(time.RFC3339))
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(text, &req); err != nil {
		t.Fatal(err)
	}
	secret := f.notificationSecret(t, networks.Mastercard)
	sig := signature.Sign(secret, time.Now(), []byte(req.Body))
	signed := strings.Replace(string(text), "signature_example", sig, 1)

	status, ack := f.call(t, "notifications", []byte(signed))
	wantStatus(t, status, http.StatusOK, ack)
	want := []any{map[string]any{"reference": rec.Reference, "outcome": "applied"}}
	if got := ack["outcomes"]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcomes = %v, want %v", got, want)
	}

	get := f.event(t, "get", "nt_example", f.mcNetworkTokenID)
	status, got := f.call(t, "get", get)
	wantStatus(t, status, http.StatusOK, got)
	apitest.WantField(t, got, "status", "suspended")
}

// notificationSecret derives the sandbox network's signing secret the way
// the functions do, from the root key sealed in the same table.
func (f *flow) notificationSecret(t *testing.T, n networks.Network) []byte {
	t.Helper()
	sealer := envelope.New(kms.NewFromConfig(f.awsCfg), f.names.KeyAlias)
	sb := networks.NewSandbox(f.app.Store.SandboxState(sealer), time.Now)
	secret, err := sb.NotificationSecret(t.Context(), n)
	if err != nil {
		t.Fatalf("deriving the %s notification secret: %v", n, err)
	}
	return secret
}

// webhookEndpoints registers the sample endpoint for the second merchant,
// and sees a loopback URL refused (the Lambda functions never admit one).
func (f *flow) webhookEndpoints(t *testing.T) {
	event := f.event(t, "webhook-endpoints", "sk_example", f.hooksKey)
	status, body := f.call(t, "webhook-endpoints", event)
	wantStatus(t, status, http.StatusCreated, body)
	apitest.WantMatch(t, body, "id", endpointIDPattern)
	apitest.WantField(t, body, "url", "https://merchant.example.com/atlas/webhooks")
	wantEvents := "[network_token.created network_token.updated network_token.deleted]"
	if got := fmt.Sprint(body["events"]); got != wantEvents {
		t.Errorf("events = %s, want %s", got, wantEvents)
	}
	if s := str(body, "secret"); !strings.HasPrefix(s, "whsec_") {
		t.Errorf("secret = %q, want whsec_…", s)
	} else {
		f.secrets = append(f.secrets, s)
	}

	loopback := f.event(t, "webhook-endpoints", "sk_example", f.hooksKey,
		"https://merchant.example.com/atlas/webhooks", "http://127.0.0.1:9/hooks")
	status, body = f.call(t, "webhook-endpoints", loopback)
	wantStatus(t, status, http.StatusBadRequest, body)
	wantError(t, body, "invalid_url", "url")
}

// eventsReachBus reads the outbox the functions wrote, publishes it with
// the relay function (or, until functions/relay exists, with the relay's
// code in this process) and reads the events back from the test queue that
// a rule on the moto bus feeds.
func (f *flow) eventsReachBus(t *testing.T) {
	entries, err := f.app.Store.PendingOutbox(t.Context(), 100)
	if err != nil {
		t.Fatalf("reading the outbox: %v", err)
	}
	queued := map[string]publish.Event{}
	for _, e := range entries {
		ev, err := relay.Decode(e.Event)
		if err != nil {
			t.Fatalf("outbox entry %s: %v", e.EventID, err)
		}
		queued[ev.ID] = ev
	}
	f.checkTokenEvents(t, queued)

	if fn := f.fns["relay"]; fn != nil {
		f.relayOutbox(t, fn, entries)
	} else {
		t.Log("functions/relay does not exist yet: publishing with relay.Sweep in this process")
		if _, err := f.app.Relay.Sweep(t.Context()); err != nil {
			t.Fatalf("relay sweep: %v", err)
		}
	}

	f.awaitOnBus(t, queued)
	if left, err := f.app.Store.PendingOutbox(t.Context(), 100); err != nil || len(left) != 0 {
		t.Errorf("outbox after relaying: %d entries (%v), want none", len(left), err)
	}
}

// checkTokenEvents finds the visa token's lifecycle in the outbox,
// network_token.updated with the reissue's expiries among it.
func (f *flow) checkTokenEvents(t *testing.T, queued map[string]publish.Event) {
	t.Helper()
	var types []string
	for _, ev := range queued {
		data, _ := json.Marshal(ev.Data)
		var d map[string]any
		_ = json.Unmarshal(data, &d)
		if d["networkTokenId"] != f.ntID {
			continue
		}
		if !eventIDPattern.MatchString(ev.ID) || ev.MerchantID != merchantID {
			t.Errorf("event %s of merchant %q", ev.ID, ev.MerchantID)
		}
		types = append(types, string(ev.Type))
		if ev.Type == "network_token.updated" {
			if d["previousExpiry"] != f.expiry || d["newExpiry"] != f.newExpiry {
				t.Errorf("updated event %v, want previousExpiry %s, newExpiry %s",
					d, f.expiry, f.newExpiry)
			}
		}
	}
	slices.Sort(types)
	want := []string{"network_token.created", "network_token.deleted", "network_token.resumed",
		"network_token.suspended", "network_token.updated"}
	if !slices.Equal(types, want) {
		t.Errorf("events of %s in the outbox: %v, want %v", f.ntID, types, want)
	}
}

// relayOutbox invokes the relay function with the stream batch DynamoDB
// would send for the outbox inserts, then with events/relay.json.
func (f *flow) relayOutbox(t *testing.T, fn *lambdatest.Emulator, entries []store.OutboxEntry) {
	t.Helper()
	batch, err := json.Marshal(streamInserts(f.awsCfg.Region, entries))
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("../events/relay.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, payload := range map[string][]byte{"outbox batch": batch, "events/relay.json": sample} {
		out, err := fn.Invoke(t.Context(), payload)
		if err != nil {
			t.Fatalf("functions/relay with the %s: %v", name, err)
		}
		var resp events.DynamoDBEventResponse
		if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Errorf("functions/relay with the %s answered %s (%v), want no failures", name, out, err)
		}
	}
}

// streamInserts is the DynamoDB stream batch that inserting entries makes.
func streamInserts(region string, entries []store.OutboxEntry) events.DynamoDBEvent {
	var ev events.DynamoDBEvent
	for i, e := range entries {
		keys := map[string]events.DynamoDBAttributeValue{
			"pk": events.NewStringAttribute(e.PK), "sk": events.NewStringAttribute(e.SK),
		}
		image := map[string]events.DynamoDBAttributeValue{
			"pk": keys["pk"], "sk": keys["sk"],
			"gsi1pk":    events.NewStringAttribute(e.GSI1PK),
			"gsi1sk":    events.NewStringAttribute(e.GSI1SK),
			"eventId":   events.NewStringAttribute(e.EventID),
			"event":     events.NewStringAttribute(e.Event),
			"createdAt": events.NewStringAttribute(e.CreatedAt),
			"expiresAt": events.NewNumberAttribute(strconv.FormatInt(e.ExpiresAt, 10)),
		}
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{
			EventID: fmt.Sprintf("artifact-%d", i), EventName: "INSERT", EventVersion: "1.1",
			EventSource: "aws:dynamodb", AWSRegion: region,
			Change: events.DynamoDBStreamRecord{
				Keys: keys, NewImage: image, StreamViewType: "NEW_AND_OLD_IMAGES",
				SequenceNumber: strconv.Itoa(1000 + i),
			},
		})
	}
	return ev
}

// awaitOnBus reads the test queue until every event of want has come
// through it, or 20 seconds passed, and reports those that did not.
func (f *flow) awaitOnBus(t *testing.T, want map[string]publish.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	client := f.sqs()
	got := map[string]bool{}
	missing := func() []string {
		var ids []string
		for id, ev := range want {
			if !got[id] {
				ids = append(ids, id+" ("+string(ev.Type)+")")
			}
		}
		return ids
	}
	for len(missing()) > 0 {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(f.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("reading the test queue: %v", err)
		}
		for _, m := range out.Messages {
			var env events.EventBridgeEvent
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatalf("queue message is not an EventBridge event: %s", aws.ToString(m.Body))
			}
			ev, err := relay.Decode(string(env.Detail))
			if err != nil {
				t.Fatalf("event on the bus: %v", err)
			}
			got[ev.ID] = true
			f.busEvents = append(f.busEvents, aws.ToString(m.Body))
			_, err = client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
				QueueUrl: aws.String(f.queueURL), ReceiptHandle: m.ReceiptHandle,
			})
			if err != nil {
				t.Fatalf("deleting a message from the test queue: %v", err)
			}
		}
	}
	if ids := missing(); len(ids) > 0 {
		t.Errorf("events that never reached the bus: %v", ids)
	}
}

// scheduledEvent is what an EventBridge schedule hands the sweeper.
const scheduledEvent = `{"version":"0","id":"0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6",
"detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",
"time":"2026-01-21T12:00:00Z","region":"us-east-1","resources":[],"detail":{}}`

// sweeper deletes the Mastercard token, which leaves its event in the
// outbox (no stream runs here), and sees the sweeper function publish it.
func (f *flow) sweeper(t *testing.T) {
	fn := f.fns["sweeper"]
	if fn == nil {
		t.Skip("functions/sweeper does not exist")
	}
	status, body := f.call(t, "delete", f.event(t, "delete", "nt_example", f.mcNetworkTokenID))
	wantStatus(t, status, http.StatusOK, body)
	apitest.WantField(t, body, "status", "deleted")

	entries, err := f.app.Store.PendingOutbox(t.Context(), 100)
	if err != nil || len(entries) != 1 {
		t.Fatalf("outbox before the sweep: %d entries (%v), want the deletion alone",
			len(entries), err)
	}
	ev, err := relay.Decode(entries[0].Event)
	if err != nil || ev.Type != "network_token.deleted" {
		t.Fatalf("outbox holds %s (%v), want network_token.deleted", ev.Type, err)
	}

	out, err := fn.Invoke(t.Context(), []byte(scheduledEvent))
	if err != nil || string(out) != "null" {
		t.Fatalf("functions/sweeper: %s, %v", out, err)
	}
	f.awaitOnBus(t, map[string]publish.Event{ev.ID: ev})
	if left, err := f.app.Store.PendingOutbox(t.Context(), 100); err != nil || len(left) != 0 {
		t.Errorf("outbox after the sweep: %d entries (%v), want none", len(left), err)
	}
}

// dispatcher runs the webhook dispatcher on the sample event (its merchant
// has no endpoints: nothing to deliver), on the reissue's event as the bus
// delivered it, and on an event from another source, which it must refuse
// with an error (so Lambda retries it and parks it in the dead-letter queue).
func (f *flow) dispatcher(t *testing.T) {
	fn := f.fns["dispatcher"]
	sample, err := os.ReadFile("../events/dispatcher.json")
	if err != nil {
		t.Fatal(err)
	}
	updated := f.busEvent(t, "network_token.updated")
	for name, payload := range map[string][]byte{
		"events/dispatcher.json": sample, "network_token.updated from the bus": updated,
	} {
		if out, err := fn.Invoke(t.Context(), payload); err != nil {
			t.Errorf("dispatcher with %s: %v", name, err)
		} else if string(out) != "null" {
			t.Errorf("dispatcher with %s answered %s, want null", name, out)
		}
	}

	foreign := strings.Replace(string(sample), `"source": "atlas.network-tokens"`,
		`"source": "example.other"`, 1)
	if foreign == string(sample) {
		t.Fatal("events/dispatcher.json has no source line to change")
	}
	_, err = fn.Invoke(t.Context(), []byte(foreign))
	var ferr *lambdatest.FunctionError
	wantMsg := `source "example.other" is not "atlas.network-tokens"`
	if !errors.As(err, &ferr) || ferr.Status != http.StatusOK ||
		!strings.Contains(ferr.Message, wantMsg) {
		t.Errorf("dispatcher with a foreign event: %v, want a returned error with %q", err, wantMsg)
	}
}

// busEvent returns the first event of type typ read from the bus.
func (f *flow) busEvent(t *testing.T, typ string) []byte {
	t.Helper()
	for _, body := range f.busEvents {
		var env events.EventBridgeEvent
		if json.Unmarshal([]byte(body), &env) == nil && env.DetailType == typ {
			return []byte(body)
		}
	}
	t.Fatalf("no %s event was read from the bus", typ)
	return nil
}
