package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/secret"
	"github.com/atlas-network-tokens/atlas/shared/webhook"
)

// goldenEventBridge reads events/dispatcher.json, the event the rule hands
// the dispatcher function.
func goldenEventBridge(t *testing.T) events.EventBridgeEvent {
	t.Helper()
	raw, err := os.ReadFile("../../events/dispatcher.json")
	if err != nil {
		t.Fatal(err)
	}
	var in events.EventBridgeEvent
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestHandleEventBridgeGolden(t *testing.T) {
	in := goldenEventBridge(t)
	rcv := newReceiver(t)
	rcv.trust(secretA)
	d := fastDispatcher(staticDirectory{
		{EndpointID: "we_a", URL: rcv.url("/hook"), Secret: secret.New(secretA)},
	}, &bytes.Buffer{})

	if err := d.HandleEventBridge(context.Background(), in); err != nil {
		t.Fatalf("HandleEventBridge: %v", err)
	}
	got := rcv.deliveries()
	if len(got) != 1 || got[0].VerifyErr != nil {
		t.Fatalf("receiver got %+v", got)
	}
	if !sameJSON(t, got[0].Body, in.Detail) {
		t.Errorf("delivered %s\nwant the detail %s", got[0].Body, in.Detail)
	}
	if got[0].Header.Get(webhook.HeaderEventID) != "evt_5d0c3b6f9a2e4b7c8d1f0a3e6b9c2d5f" {
		t.Errorf("event id header %q", got[0].Header.Get(webhook.HeaderEventID))
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		t.Fatalf("not JSON: %s / %s", a, b)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

// Every failure is returned, so that Lambda retries the invocation and then
// parks it in the dead-letter queue.
func TestHandleEventBridgeFailures(t *testing.T) {
	refusing := newReceiver(t, 400)
	d := fastDispatcher(staticDirectory{
		{EndpointID: "we_a", URL: refusing.url("/hook"), Secret: secret.New(secretA)},
	}, &bytes.Buffer{})

	tests := []struct {
		name   string
		change func(*events.EventBridgeEvent)
		want   string
	}{
		{"endpoint refuses", func(*events.EventBridgeEvent) {}, "we_a"},
		{"other source", func(e *events.EventBridgeEvent) { e.Source = "aws.s3" }, "source"},
		{"detail-type differs", func(e *events.EventBridgeEvent) {
			e.DetailType = string(publish.NetworkTokenDeleted)
		}, "detail-type"},
		{"detail not an event", func(e *events.EventBridgeEvent) {
			e.Detail = json.RawMessage(`["x"]`)
		}, "decoding event"},
		{"unknown type", func(e *events.EventBridgeEvent) {
			e.DetailType = "network_token.frozen"
			e.Detail = json.RawMessage(strings.Replace(string(e.Detail),
				"network_token.created", "network_token.frozen", 1))
		}, "not a valid event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goldenEventBridge(t)
			tt.change(&in)
			err := d.HandleEventBridge(context.Background(), in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("HandleEventBridge = %v, want an error about %q", err, tt.want)
			}
			if tt.name == "endpoint refuses" && !errors.Is(err, webhook.ErrPermanent) {
				t.Errorf("error %v does not wrap ErrPermanent", err)
			}
		})
	}
}
