package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/atlas-network-tokens/atlas/shared/eventschema"
	"github.com/atlas-network-tokens/atlas/shared/infra"
	"github.com/atlas-network-tokens/atlas/shared/infra/mototest"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/relay"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// failingBus fails its first PutEvents call without sending, then passes
// every call on to the real bus.
type failingBus struct {
	real  publish.PutEventsAPI
	mu    sync.Mutex
	calls int
}

func (b *failingBus) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput,
	opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	b.mu.Lock()
	b.calls++
	first := b.calls == 1
	b.mu.Unlock()
	if first {
		return nil, errInjected
	}
	return b.real.PutEvents(ctx, in, opts...)
}

// The relay Lambda end to end on moto: outbox items written to a table with
// a stream, the stream's own records fed to HandleStream, EventBridge
// delivering through a rule to an SQS queue. The first PutEvents fails; the
// records it carried are reported, and redelivered they arrive.
func TestHandleStreamDeliversThroughEventBridge(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := mototest.Config(t)
	names := infra.Names{Table: mototest.Name("atlas-relay"), EventBus: mototest.Name("atlas-bus"),
		TestQueue: mototest.Name("atlas-queue")}
	res, err := infra.Bootstrap(ctx, cfg, names, true)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	db := dynamodb.NewFromConfig(cfg)
	st := store.New(db, names.Table, time.Now)

	const n = 12 // two publish calls: 10 and 2 events
	var ids []string
	for range n {
		e := newEvent(t)
		putOutbox(t, db, st, names.Table, e)
		ids = append(ids, e.ID)
	}
	putItem(ctx, t, db, names.Table, map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "NT#nt_1"},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "NT"},
	})
	stream := newStreamReader(ctx, t, cfg, db, names.Table)
	recs := stream.read(ctx, t, n+1)

	bus := &failingBus{real: eventbridge.NewFromConfig(cfg)}
	pub, err := publish.NewEventBridge(bus, names.EventBus)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r := relay.New(st, pub, logging.New(&logs, "debug"))

	failed := handle(ctx, t, r, recs)
	if want := outboxSeqs(recs)[:10]; !slices.Equal(failed, want) {
		t.Fatalf("failed %v, want the first call's records %v", failed, want)
	}
	from := slices.IndexFunc(recs, func(rec events.DynamoDBEventRecord) bool {
		return rec.Change.SequenceNumber == failed[0]
	})
	if failed := handle(ctx, t, r, recs[from:]); len(failed) != 0 {
		t.Fatalf("failed on redelivery: %v", failed)
	}

	got := receiveEvents(ctx, t, sqs.NewFromConfig(cfg), res.TestQueueURL, ids)
	schemas, err := eventschema.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := schemas.Validate(got[id]); err != nil {
			t.Errorf("delivered event %s: %v", id, err)
		}
		if outboxItem(t, db, names.Table, id) != nil {
			t.Errorf("outbox entry %s not deleted", id)
		}
	}

	// The deletions show on the stream as REMOVE records: nothing to publish.
	calls := bus.calls
	if failed := handle(ctx, t, r, stream.read(ctx, t, n)); len(failed) != 0 {
		t.Fatalf("REMOVE records failed: %v", failed)
	}
	if bus.calls != calls {
		t.Errorf("REMOVE records made %d PutEvents calls", bus.calls-calls)
	}
}

func handle(ctx context.Context, t *testing.T, r *relay.Relay,
	recs []events.DynamoDBEventRecord) []string {
	t.Helper()
	resp, err := r.HandleStream(ctx, events.DynamoDBEvent{Records: recs})
	if err != nil {
		t.Fatalf("HandleStream returned an error: %v", err)
	}
	return failedSeqs(resp)
}

func putItem(ctx context.Context, t *testing.T, db *dynamodb.Client, table string,
	item map[string]ddbtypes.AttributeValue) {
	t.Helper()
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
		t.Fatal(err)
	}
}

func outboxSeqs(recs []events.DynamoDBEventRecord) []string {
	var seqs []string
	for _, r := range recs {
		pk, ok := r.Change.Keys["pk"]
		if ok && r.EventName == "INSERT" && pk.DataType() == events.DataTypeString &&
			strings.HasPrefix(pk.String(), "OUTBOX#") {
			seqs = append(seqs, r.Change.SequenceNumber)
		}
	}
	return seqs
}

// streamReader reads a table's stream from its start, one shard iterator
// per shard, as Lambda's event source mapping does.
type streamReader struct {
	client    *dynamodbstreams.Client
	iterators []*string
}

func newStreamReader(ctx context.Context, t *testing.T, cfg aws.Config, db *dynamodb.Client,
	table string) *streamReader {
	t.Helper()
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	arn := desc.Table.LatestStreamArn
	if arn == nil {
		t.Fatal("the table has no stream")
	}
	client := dynamodbstreams.NewFromConfig(cfg)
	stream, err := client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil {
		t.Fatalf("describing the stream: %v", err)
	}
	s := &streamReader{client: client}
	for _, shard := range stream.StreamDescription.Shards {
		it, err := client.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: arn, ShardId: shard.ShardId,
			ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("shard iterator: %v", err)
		}
		s.iterators = append(s.iterators, it.ShardIterator)
	}
	return s
}

// read returns the next n records of the stream as Lambda passes them on.
func (s *streamReader) read(ctx context.Context, t *testing.T, n int) []events.DynamoDBEventRecord {
	t.Helper()
	var recs []events.DynamoDBEventRecord
	for attempt := 0; len(recs) < n; attempt++ {
		if attempt == 20 {
			t.Fatalf("%d stream records, want %d", len(recs), n)
		}
		for i, it := range s.iterators {
			if it == nil {
				continue
			}
			out, err := s.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
			if err != nil {
				t.Fatalf("reading the stream: %v", err)
			}
			for _, r := range out.Records {
				recs = append(recs, lambdaRecord(r))
			}
			s.iterators[i] = out.NextShardIterator
		}
	}
	return recs
}

func lambdaRecord(r streamtypes.Record) events.DynamoDBEventRecord {
	d := r.Dynamodb
	return events.DynamoDBEventRecord{
		EventID: aws.ToString(r.EventID), EventName: string(r.EventName),
		EventSource: aws.ToString(r.EventSource), EventVersion: aws.ToString(r.EventVersion),
		AWSRegion: aws.ToString(r.AwsRegion),
		Change: events.DynamoDBStreamRecord{
			Keys: lambdaImage(d.Keys), NewImage: lambdaImage(d.NewImage),
			OldImage: lambdaImage(d.OldImage), SequenceNumber: aws.ToString(d.SequenceNumber),
			StreamViewType: string(d.StreamViewType),
		},
	}
}

func lambdaImage(
	item map[string]streamtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if item == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(item))
	for name, av := range item {
		out[name] = lambdaValue(av)
	}
	return out
}

func lambdaValue(av streamtypes.AttributeValue) events.DynamoDBAttributeValue {
	switch v := av.(type) {
	case *streamtypes.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *streamtypes.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *streamtypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *streamtypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *streamtypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *streamtypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *streamtypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *streamtypes.AttributeValueMemberL:
		list := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			list[i] = lambdaValue(e)
		}
		return events.NewListAttribute(list)
	case *streamtypes.AttributeValueMemberM:
		return events.NewMapAttribute(lambdaImage(v.Value))
	}
	return events.NewNullAttribute()
}

// receiveEvents polls the queue until every id arrived, and returns each
// event's detail by id.
func receiveEvents(ctx context.Context, t *testing.T, queue *sqs.Client, url string,
	ids []string) map[string][]byte {
	t.Helper()
	got := map[string][]byte{}
	for !allIn(got, ids) {
		out, err := queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			t.Fatalf("receiving after %d of %d events: %v", len(got), len(ids), err)
		}
		for _, m := range out.Messages {
			var d struct {
				Source     string          `json:"source"`
				DetailType string          `json:"detail-type"`
				Detail     json.RawMessage `json:"detail"`
			}
			var e publish.Event
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &d); err != nil {
				t.Fatalf("message %s: %v", aws.ToString(m.Body), err)
			}
			if err := json.Unmarshal(d.Detail, &e); err != nil {
				t.Fatalf("detail %s: %v", d.Detail, err)
			}
			if d.Source != publish.Source || d.DetailType != string(e.Type) {
				t.Errorf("event %s: source %q detail-type %q", e.ID, d.Source, d.DetailType)
			}
			got[e.ID] = d.Detail
		}
	}
	return got
}

func allIn(got map[string][]byte, ids []string) bool {
	for _, id := range ids {
		if got[id] == nil {
			return false
		}
	}
	return true
}
