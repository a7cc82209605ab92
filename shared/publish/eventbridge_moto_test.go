package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/infra"
	"github.com/atlas-network-tokens/atlas/shared/infra/mototest"
	"github.com/atlas-network-tokens/atlas/shared/publish"
)

// busDelivery is the envelope EventBridge wraps around an event it hands to
// an SQS target.
type busDelivery struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
}

// motoBus makes a bus whose every event lands in a queue, and returns the
// bus's client and name and the queue's client and URL.
func motoBus(ctx context.Context, t *testing.T) (*eventbridge.Client, string, *sqs.Client,
	string) {
	t.Helper()
	cfg := mototest.Config(t)
	names := infra.Names{EventBus: mototest.Name("atlas-bus"),
		TestQueue: mototest.Name("atlas-queue")}
	res, err := infra.Bootstrap(ctx, cfg, names, true)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return eventbridge.NewFromConfig(cfg), names.EventBus, sqs.NewFromConfig(cfg),
		res.TestQueueURL
}

func TestEventBridgeDeliversToQueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bus, busName, queue, queueURL := motoBus(ctx, t)
	pub, err := publish.NewEventBridge(bus, busName)
	if err != nil {
		t.Fatal(err)
	}

	var sent []publish.Event
	for i := range 12 { // two batches
		e, err := publish.NewEvent(publish.NetworkTokenCreated, "mer_1",
			map[string]any{"networkTokenId": "nt_abc123", "n": i}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, e)
	}
	if err := pub.Publish(ctx, sent...); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	got := receive(ctx, t, queue, queueURL, len(sent))
	for _, e := range sent {
		want, _ := json.Marshal(e)
		d, ok := got[e.ID]
		switch {
		case !ok:
			t.Errorf("event %s never arrived", e.ID)
		case d.Source != publish.Source || d.DetailType != string(e.Type):
			t.Errorf("event %s: source %q detail-type %q", e.ID, d.Source, d.DetailType)
		case !sameJSON(t, d.Detail, want): // moto re-spaces the detail
			t.Errorf("event %s: detail\n%s\nwant\n%s", e.ID, d.Detail, want)
		}
	}
}

// receive polls the queue until n distinct events arrived or ctx ends, and
// returns the deliveries by event id.
func receive(ctx context.Context, t *testing.T, queue *sqs.Client, url string,
	n int) map[string]busDelivery {
	t.Helper()
	got := make(map[string]busDelivery)
	for len(got) < n {
		out, err := queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			t.Fatalf("receiving after %d of %d events: %v", len(got), n, err)
		}
		for _, m := range out.Messages {
			var d busDelivery
			var e publish.Event
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &d); err != nil {
				t.Fatalf("message %s: %v", aws.ToString(m.Body), err)
			}
			if err := json.Unmarshal(d.Detail, &e); err != nil {
				t.Fatalf("detail %s: %v", d.Detail, err)
			}
			got[e.ID] = d
		}
	}
	return got
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// rejectingBus sends to the real bus, then reports the first entry of each
// call as rejected, as EventBridge does under throttling. Moto accepts every
// entry, so the failure is added here.
type rejectingBus struct{ real publish.PutEventsAPI }

func (b rejectingBus) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput,
	opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	out, err := b.real.PutEvents(ctx, in, opts...)
	if err != nil || len(out.Entries) == 0 {
		return out, err
	}
	out.FailedEntryCount++
	out.Entries[0].EventId = nil
	out.Entries[0].ErrorCode = aws.String("ThrottlingException")
	out.Entries[0].ErrorMessage = aws.String("Rate exceeded")
	return out, nil
}

func TestEventBridgeReportsRejectedEntries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bus, busName, _, _ := motoBus(ctx, t)
	pub, err := publish.NewEventBridge(rejectingBus{bus}, busName)
	if err != nil {
		t.Fatal(err)
	}
	e, err := publish.NewEvent(publish.NetworkTokenDeleted, "mer_1",
		map[string]string{"networkTokenId": "nt_abc123"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	err = pub.Publish(ctx, e, e)
	if !errors.Is(err, fault.ErrUnavailable) {
		t.Fatalf("error = %v, want one wrapping fault.ErrUnavailable", err)
	}
	want := "publish events 1 to 2 of 2: put events: 1 of 2 entries failed " +
		"(first: ThrottlingException: Rate exceeded): service unavailable"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}

func TestEventBridgeUnknownBus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bus := eventbridge.NewFromConfig(mototest.Config(t))
	pub, err := publish.NewEventBridge(bus, mototest.Name("no-such-bus"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := publish.NewEvent(publish.NetworkTokenCreated, "mer_1", struct{}{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	err = pub.Publish(ctx, e)
	if !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("error = %v, want one wrapping fault.ErrUnavailable", err)
	}
	t.Logf("moto's answer for an unknown bus: %v", err)
}
