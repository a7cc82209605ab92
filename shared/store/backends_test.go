package store_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	miniserver "github.com/truora/minidyn/server"

	"github.com/atlas-network-tokens/atlas/shared/awsfault"
	"github.com/atlas-network-tokens/atlas/shared/devstack"
	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/infra"
	"github.com/atlas-network-tokens/atlas/shared/infra/mototest"
	"github.com/atlas-network-tokens/atlas/shared/localkms"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// backend is a DynamoDB emulator with a KMS for the sandbox root key. Each
// contract case gets a table of its own from newTable.
type backend struct {
	name string
	open func(t *testing.T) env
}

type env struct {
	db       *dynamodb.Client
	sealer   store.Sealer
	newTable func(t *testing.T) string
}

// backends are where the contract runs: minidyn with local-kms in process
// (the dev stack), and moto_server with local-kms (moto's own KMS ignores
// key state, so it would not tell a disabled key from a good one).
var backends = []backend{
	{"minidyn", openMinidyn},
	{"moto", openMoto},
}

func openMinidyn(t *testing.T) env {
	stack, err := devstack.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("starting dev stack: %v", err)
	}
	t.Cleanup(func() { stack.Close() })
	return env{
		db:     stack.DynamoDB,
		sealer: envelope.New(stack.KMS, stack.KeyID),
		newTable: func(t *testing.T) string {
			// minidyn has no UpdateTimeToLive (it answers 400 with a
			// plain-text body), so its tables go without TTL.
			return createTable(t, stack.DynamoDB, mototest.Name("contract"), false)
		},
	}
}

func openMoto(t *testing.T) env {
	cfg := mototest.Config(t) // skips locally, fails under CI, without moto
	kmsServer, err := localkms.Start(t.TempDir(), localkms.WithRegion(cfg.Region))
	if err != nil {
		t.Fatalf("starting local KMS: %v", err)
	}
	t.Cleanup(func() { kmsServer.Close() })
	keyID, err := kmsServer.CreateKey(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	return env{
		db:     db,
		sealer: envelope.New(kmsServer.Client(), keyID),
		newTable: func(t *testing.T) string {
			return createTable(t, db, mototest.Name("contract"), true)
		},
	}
}

// createTable makes a table shaped as infra defines it, with TTL when ttl
// is set, and drops it when the test ends.
func createTable(t *testing.T, db *dynamodb.Client, name string, ttl bool) string {
	t.Helper()
	ctx := context.Background()
	if _, err := db.CreateTable(ctx, infra.TableInput(name)); err != nil {
		t.Fatalf("creating table: %v", err)
	}
	waitActive(t, db, name)
	if ttl {
		if _, err := db.UpdateTimeToLive(ctx, infra.TTLInput(name)); err != nil {
			t.Fatalf("enabling TTL: %v", err)
		}
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name})
	})
	return name
}

// waitActive waits until the table is ACTIVE. minidyn reports no status at
// all (its tables are usable at once), so an empty status ends the wait too.
func waitActive(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := db.DescribeTable(context.Background(),
			&dynamodb.DescribeTableInput{TableName: &name})
		if err != nil {
			t.Fatalf("describing table: %v", err)
		}
		status := out.Table.TableStatus
		if status == types.TableStatusActive || status == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s still %s", name, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clock is a settable store clock, safe for concurrent reads.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is what one contract case works on: a store on a fresh table
// with its own clock, and the raw client to look behind the store's back.
type fixture struct {
	st     *store.Store
	clock  *clock
	db     *dynamodb.Client
	table  string
	sealer store.Sealer
}

// rawItem reads an item as the table holds it, ignoring expiry, or nil.
func (f fixture) rawItem(t *testing.T, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.table),
		Key: map[string]types.AttributeValue{
			infra.AttrPK: &types.AttributeValueMemberS{Value: pk},
			infra.AttrSK: &types.AttributeValueMemberS{Value: sk},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("raw GetItem %s/%s: %v", pk, sk, err)
	}
	if len(out.Item) == 0 {
		return nil
	}
	return out.Item
}

// attrBytes returns the bytes of a B attribute, or nil.
func attrBytes(av types.AttributeValue) []byte {
	if b, ok := av.(*types.AttributeValueMemberB); ok {
		return b.Value
	}
	return nil
}

// faultyMinidyn is a store on a fresh minidyn whose client goes through
// faults and tries each call once.
func faultyMinidyn(t *testing.T, faults *awsfault.Transport) fixture {
	t.Helper()
	srv := httptest.NewServer(miniserver.NewServer()) // binds 127.0.0.1
	t.Cleanup(srv.Close)
	db := dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("a", "b", ""),
		HTTPClient:       faults.Client(),
		RetryMaxAttempts: 1,
	})
	table := createTable(t, db, "faulty", false)
	clk := newClock()
	return fixture{st: store.New(db, table, clk.Now), clock: clk, db: db, table: table}
}
