package infra

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/atlas-network-tokens/atlas/shared/infra/mototest"
	"github.com/atlas-network-tokens/atlas/shared/localkms"
)

// bootstrapConfig returns an AWS config for moto, with KMS sent to a
// local-kms started for the test (moto's KMS ignores key state).
func bootstrapConfig(t *testing.T) aws.Config {
	t.Helper()
	mototest.URL(t)
	kmsServer, err := localkms.Start(t.TempDir())
	if err != nil {
		t.Fatalf("starting local-kms: %v", err)
	}
	t.Cleanup(func() { kmsServer.Close() })
	t.Setenv("AWS_ENDPOINT_URL_KMS", kmsServer.URL)
	return mototest.Config(t)
}

func testNames() Names {
	return Names{
		Table:     mototest.Name("atlas-table"),
		KeyAlias:  "alias/" + mototest.Name("atlas-key"),
		EventBus:  mototest.Name("atlas-bus"),
		TestQueue: mototest.Name("atlas-queue"),
	}
}

func TestBootstrapIsIdempotent(t *testing.T) {
	cfg := bootstrapConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	names := testNames()

	first, err := Bootstrap(ctx, cfg, names, true)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	wantCreated := []string{"table", "time to live", "key", "alias", "event bus",
		"test queue", "test rule", "test rule target", "test queue policy"}
	if !slices.Equal(first.Created, wantCreated) {
		t.Errorf("first run created %q, want %q", first.Created, wantCreated)
	}

	second, err := Bootstrap(ctx, cfg, names, true)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if len(second.Created) != 0 {
		t.Errorf("second run created %q, want nothing", second.Created)
	}
	second.Created = first.Created
	if !reflect.DeepEqual(second, first) {
		t.Errorf("second run found\n%+v\nfirst run made\n%+v", second, first)
	}

	checkTableOnServer(ctx, t, cfg, first)
	checkKeyOnServer(ctx, t, cfg, first)
	checkEventsOnServer(ctx, t, cfg, names, first)
}

func checkTableOnServer(ctx context.Context, t *testing.T, cfg aws.Config, res Result) {
	t.Helper()
	db := dynamodb.NewFromConfig(cfg)
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &res.Table})
	if err != nil {
		t.Fatalf("describing table: %v", err)
	}
	table := out.Table
	if table.TableStatus != dbtypes.TableStatusActive {
		t.Errorf("table status %s", table.TableStatus)
	}
	want := TableInput(res.Table)
	if !sameKeys(table.KeySchema, want.KeySchema) {
		t.Errorf("key schema %+v", table.KeySchema)
	}
	if len(table.GlobalSecondaryIndexes) != 1 ||
		aws.ToString(table.GlobalSecondaryIndexes[0].IndexName) != IndexGSI1 ||
		!sameKeys(table.GlobalSecondaryIndexes[0].KeySchema,
			want.GlobalSecondaryIndexes[0].KeySchema) ||
		table.GlobalSecondaryIndexes[0].Projection.ProjectionType != dbtypes.ProjectionTypeAll {
		t.Errorf("indexes %+v", table.GlobalSecondaryIndexes)
	}
	if s := table.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) ||
		s.StreamViewType != dbtypes.StreamViewTypeNewAndOldImages {
		t.Errorf("stream %+v", s)
	}

	ttl, err := db.DescribeTimeToLive(ctx,
		&dynamodb.DescribeTimeToLiveInput{TableName: &res.Table})
	if err != nil {
		t.Fatalf("describing TTL: %v", err)
	}
	if d := ttl.TimeToLiveDescription; d.TimeToLiveStatus != dbtypes.TimeToLiveStatusEnabled ||
		aws.ToString(d.AttributeName) != AttrTTL {
		t.Errorf("TTL %s on %q", d.TimeToLiveStatus, aws.ToString(d.AttributeName))
	}
}

func checkKeyOnServer(ctx context.Context, t *testing.T, cfg aws.Config, res Result) {
	t.Helper()
	out, err := kms.NewFromConfig(cfg).DescribeKey(ctx,
		&kms.DescribeKeyInput{KeyId: &res.KeyAlias})
	if err != nil {
		t.Fatalf("describing key by alias: %v", err)
	}
	key := out.KeyMetadata
	if aws.ToString(key.KeyId) != res.KeyID || aws.ToString(key.Arn) != res.KeyARN {
		t.Errorf("alias names key %s (%s), bootstrap said %s (%s)", aws.ToString(key.KeyId),
			aws.ToString(key.Arn), res.KeyID, res.KeyARN)
	}
	if key.KeyUsage != kmstypes.KeyUsageTypeEncryptDecrypt ||
		key.KeyState != kmstypes.KeyStateEnabled ||
		aws.ToString(key.Description) != KeyDescription {
		t.Errorf("key usage %s state %s description %q", key.KeyUsage, key.KeyState,
			aws.ToString(key.Description))
	}
}

func checkEventsOnServer(ctx context.Context, t *testing.T, cfg aws.Config, names Names,
	res Result) {
	t.Helper()
	bus := eventbridge.NewFromConfig(cfg)
	described, err := bus.DescribeEventBus(ctx,
		&eventbridge.DescribeEventBusInput{Name: &names.EventBus})
	if err != nil || aws.ToString(described.Arn) != res.EventBusARN {
		t.Fatalf("describing bus: %v (ARN %q, want %q)", err, aws.ToString(described.Arn),
			res.EventBusARN)
	}

	rule, err := bus.DescribeRule(ctx, &eventbridge.DescribeRuleInput{
		Name: &names.TestQueue, EventBusName: &names.EventBus})
	if err != nil {
		t.Fatalf("describing rule: %v", err)
	}
	if rule.State != ebtypes.RuleStateEnabled ||
		!sameJSON(aws.ToString(rule.EventPattern), `{"source":["atlas.network-tokens"]}`) {
		t.Errorf("rule %s pattern %s", rule.State, aws.ToString(rule.EventPattern))
	}
	targets, err := bus.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{
		Rule: &names.TestQueue, EventBusName: &names.EventBus})
	if err != nil {
		t.Fatalf("listing targets: %v", err)
	}
	if len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].Arn) != res.TestQueueARN {
		t.Errorf("targets %+v, want the queue %s", targets.Targets, res.TestQueueARN)
	}

	queue, err := sqs.NewFromConfig(cfg).GetQueueUrl(ctx,
		&sqs.GetQueueUrlInput{QueueName: &names.TestQueue})
	if err != nil || aws.ToString(queue.QueueUrl) != res.TestQueueURL {
		t.Errorf("queue lookup: %v (URL %q, want %q)", err, aws.ToString(queue.QueueUrl),
			res.TestQueueURL)
	}
}

func TestBootstrapLeavesOutUnnamed(t *testing.T) {
	cfg := mototest.Config(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	names := Names{EventBus: mototest.Name("atlas-bus"), TestQueue: mototest.Name("atlas-q")}
	res, err := Bootstrap(ctx, cfg, names, true)
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	if res.Table != "" || res.KeyARN != "" || res.EventBusARN == "" || res.TestQueueURL == "" {
		t.Errorf("result %+v", res)
	}
	if slices.Contains(res.Created, "table") || slices.Contains(res.Created, "key") {
		t.Errorf("created %q, want neither table nor key", res.Created)
	}
}

func TestBootstrapRefusesBadNames(t *testing.T) {
	tests := []struct {
		name    string
		names   Names
		queue   bool
		wantErr string
	}{
		{"alias without prefix", Names{KeyAlias: "atlas"}, false, "does not start with alias/"},
		{"bare prefix", Names{KeyAlias: "alias/"}, false, "not one a service may create"},
		{"aws alias", Names{KeyAlias: "alias/aws/dynamodb"}, false, "not one a service"},
		{"queue without bus", Names{TestQueue: "q"}, true, "needs a queue name and an event bus"},
		{"queue without name", Names{EventBus: "b"}, true, "needs a queue name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Bootstrap(context.Background(), aws.Config{}, tt.names, tt.queue)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
