package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/atlas-network-tokens/atlas/shared/apitest"
	"github.com/atlas-network-tokens/atlas/shared/app"
	"github.com/atlas-network-tokens/atlas/shared/awsfault"
	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/infra"
	"github.com/atlas-network-tokens/atlas/shared/infra/mototest"
	"github.com/atlas-network-tokens/atlas/shared/localkms"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/networks"
	"github.com/atlas-network-tokens/atlas/shared/publish"
)

// awsEnv is the service on the production code path: DynamoDB, EventBridge
// and SQS from moto_server, KMS from local-kms, each SDK client going
// through a fault-injecting transport. Its harness drives the handlers as
// the dev-stack tests do.
type awsEnv struct {
	t        *testing.T
	h        *harness
	cfg      aws.Config
	appCfg   app.Config
	keyID    string
	kmsSrv   *localkms.Server
	db       *dynamodb.Client // straight to moto, for looking behind the store
	kms      *kms.Client      // straight to local-kms
	queue    *sqs.Client
	queueURL string

	dbFaults, kmsFaults, busFaults *awsfault.Transport
}

// newAWSEnv bootstraps a fresh table, bus and test queue on moto and a key
// on local-kms, and wires an App on them. Without moto the test is skipped
// locally and fails under CI (mototest).
func newAWSEnv(t *testing.T) *awsEnv {
	t.Helper()
	ctx := context.Background()
	cfg := mototest.Config(t)
	names := infra.Names{Table: mototest.Name("atlas-it"), EventBus: mototest.Name("atlas-it"),
		TestQueue: mototest.Name("atlas-it")}
	res, err := infra.Bootstrap(ctx, cfg, names, true)
	if err != nil {
		t.Fatalf("bootstrap on moto: %v", err)
	}

	kmsSrv, err := localkms.Start(t.TempDir(), localkms.WithRegion(cfg.Region))
	if err != nil {
		t.Fatalf("starting local KMS: %v", err)
	}
	t.Cleanup(func() { kmsSrv.Close() })
	alias := "alias/" + mototest.Name("atlas-it")
	keyID, err := kmsSrv.CreateKey(ctx, alias)
	if err != nil {
		t.Fatal(err)
	}

	e := &awsEnv{
		t: t, cfg: cfg, keyID: keyID, kmsSrv: kmsSrv,
		appCfg: app.Config{Table: names.Table, KeyID: alias, EventBus: names.EventBus,
			Stage: app.StageSandbox},
		db: dynamodb.NewFromConfig(cfg), kms: kmsSrv.Client(),
		queue: sqs.NewFromConfig(cfg), queueURL: res.TestQueueURL,
		dbFaults: awsfault.New(nil), kmsFaults: awsfault.New(nil), busFaults: awsfault.New(nil),
	}
	t.Cleanup(func() { // before local KMS stops, which waits for open connections
		e.kmsFaults.CloseIdleConnections()
	})
	e.h = &harness{t: t, logs: &apitest.Buffer{}, events: &apitest.Buffer{},
		now: time.Now().UTC().Truncate(time.Second)}
	e.h.app = e.newApp()
	e.h.key = e.h.merchantKey(merchantID)
	return e
}

// connectionRetries is the clients' retryer: it retries only a broken
// connection, never an error the service (or a fault) answered, so that an
// injected throttle or 5xx is the answer the service sees at once. Broken
// connections must be retried: moto now and then closes one while the SDK
// still reads an error body ("use of closed network connection"), which
// the SDK's standard retryer retries in production too.
func connectionRetries() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
		o.Backoff = retry.NewExponentialJitterBackoff(20 * time.Millisecond)
		o.RateLimiter = ratelimit.None
	})
}

// newApp wires another App on the same table, key and bus, as another
// Lambda instance (or the same one after a restart) would be. The clients
// retry only broken connections (connectionRetries).
func (e *awsEnv) newApp() *app.App {
	db := dynamodb.NewFromConfig(e.cfg, func(o *dynamodb.Options) {
		o.HTTPClient, o.Retryer = e.dbFaults.Client(), connectionRetries()
	})
	kmsClient := kms.New(e.kms.Options(), func(o *kms.Options) {
		o.HTTPClient, o.Retryer = e.kmsFaults.Client(), connectionRetries()
	})
	bus := eventbridge.NewFromConfig(e.cfg, func(o *eventbridge.Options) {
		o.HTTPClient, o.Retryer = e.busFaults.Client(), connectionRetries()
	})
	pub, err := publish.NewEventBridge(bus, e.appCfg.EventBus)
	if err != nil {
		e.t.Fatal(err)
	}
	b := app.Backends{DynamoDB: db, KMS: kmsClient, Publisher: pub}
	return app.New(e.appCfg, b, logging.New(e.h.logs, "debug"), app.Options{Now: e.h.clock})
}

// provider is the sandbox network as the App sees it, for reading a
// token's PAN the way the network knows it.
func (e *awsEnv) provider(n networks.Network) networks.Provider {
	e.t.Helper()
	sealer := envelope.New(e.kms, e.keyID)
	p, err := networks.NewSandbox(e.h.app.Store.SandboxState(sealer), e.h.clock).Provider(n)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// delivery is one event as the test queue received it from the bus.
type delivery struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
	Body       string          `json:"-"`
	event      publish.Event
}

// receive drains the test queue until want distinct event ids arrived, or
// until a poll comes back empty once want is reached or the deadline
// passes. It returns every delivery, duplicates included.
func (e *awsEnv) receive(want int) []delivery {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []delivery
	ids := map[string]bool{}
	for {
		out, err := e.queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &e.queueURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			e.t.Fatalf("receiving after %d of %d events: %v", len(ids), want, err)
		}
		if len(out.Messages) == 0 && len(ids) >= want {
			return got
		}
		for _, m := range out.Messages {
			d := delivery{Body: aws.ToString(m.Body)}
			if err := json.Unmarshal([]byte(d.Body), &d); err != nil {
				e.t.Fatalf("message %s: %v", d.Body, err)
			}
			if err := json.Unmarshal(d.Detail, &d.event); err != nil {
				e.t.Fatalf("detail %s: %v", d.Detail, err)
			}
			ids[d.event.ID] = true
			got = append(got, d)
			_, _ = e.queue.DeleteMessage(ctx, &sqs.DeleteMessageInput{
				QueueUrl: &e.queueURL, ReceiptHandle: m.ReceiptHandle,
			})
		}
	}
}

// scan returns every item of the table as stored.
func (e *awsEnv) scan() []map[string]types.AttributeValue {
	e.t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(e.db, &dynamodb.ScanInput{TableName: &e.appCfg.Table})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatalf("scanning: %v", err)
		}
		items = append(items, page.Items...)
	}
	return items
}

// itemsWithPK returns the stored items whose pk starts with prefix.
func (e *awsEnv) itemsWithPK(prefix string) []map[string]types.AttributeValue {
	var out []map[string]types.AttributeValue
	for _, item := range e.scan() {
		if strings.HasPrefix(stringAttr(item, "pk"), prefix) {
			out = append(out, item)
		}
	}
	return out
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// leaks reports where a forbidden value appears in an attribute value, in
// any type: strings, numbers and binary (as ASCII, hex and Base64), sets,
// lists and maps, map keys included. It returns "" when there is none.
func leaks(path string, av types.AttributeValue, forbidden []string) string {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return leakIn(path, []byte(v.Value), forbidden)
	case *types.AttributeValueMemberN:
		return leakIn(path, []byte(v.Value), forbidden)
	case *types.AttributeValueMemberB:
		return leakIn(path, v.Value, forbidden)
	case *types.AttributeValueMemberSS:
		return leakIn(path, []byte(strings.Join(v.Value, "\x00")), forbidden)
	case *types.AttributeValueMemberNS:
		return leakIn(path, []byte(strings.Join(v.Value, "\x00")), forbidden)
	case *types.AttributeValueMemberBS:
		return leakIn(path, bytes.Join(v.Value, []byte{0}), forbidden)
	case *types.AttributeValueMemberL:
		for i, el := range v.Value {
			if where := leaks(fmt.Sprintf("%s[%d]", path, i), el, forbidden); where != "" {
				return where
			}
		}
	case *types.AttributeValueMemberM:
		for k, el := range v.Value {
			if where := leakIn(path+" key", []byte(k), forbidden); where != "" {
				return where
			}
			if where := leaks(path+"."+k, el, forbidden); where != "" {
				return where
			}
		}
	}
	return ""
}

func leakIn(path string, b []byte, forbidden []string) string {
	for _, f := range forbidden {
		forms := []string{f, hex.EncodeToString([]byte(f)),
			base64.StdEncoding.EncodeToString([]byte(f)),
			base64.RawURLEncoding.EncodeToString([]byte(f))}
		for _, form := range forms {
			if bytes.Contains(b, []byte(form)) {
				return fmt.Sprintf("%s holds a forbidden value (…%s)", path, f[len(f)-4:])
			}
		}
	}
	return ""
}

// The leak search finds a planted value in every attribute type and
// encoding it looks at, and nothing in clean items.
func TestLeakSearchFindsPlantedValues(t *testing.T) {
	const pan = "4242424242424242"
	forbidden := []string{pan}
	planted := []types.AttributeValue{
		&types.AttributeValueMemberS{Value: "x" + pan},
		&types.AttributeValueMemberN{Value: pan},
		&types.AttributeValueMemberB{Value: []byte("..." + pan)},
		&types.AttributeValueMemberS{Value: hex.EncodeToString([]byte(pan))},
		&types.AttributeValueMemberS{Value: base64.StdEncoding.EncodeToString([]byte(pan))},
		&types.AttributeValueMemberSS{Value: []string{"a", pan}},
		&types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"deep": &types.AttributeValueMemberS{Value: pan}}}}},
		&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			pan: &types.AttributeValueMemberNULL{Value: true}}},
	}
	for i, av := range planted {
		if leaks("item", av, forbidden) == "" {
			t.Errorf("planted value %d (%T) not found", i, av)
		}
	}
	clean := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"last4": &types.AttributeValueMemberS{Value: "4242"},
		"bin":   &types.AttributeValueMemberN{Value: "424242"},
	}}
	if where := leaks("item", clean, forbidden); where != "" {
		t.Errorf("clean item flagged: %s", where)
	}
}
