package infra

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Each create step, run after another process made the resource between
// Bootstrap's look and its create, settles on the existing resource.
func TestBootstrapLosesRacesGracefully(t *testing.T) {
	cfg := bootstrapConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	names := testNames()
	names.TestQueue = ""
	existing, err := Bootstrap(ctx, cfg, names, false)
	if err != nil {
		t.Fatal(err)
	}

	var res Result
	if err := createTable(ctx, dynamodb.NewFromConfig(cfg), names.Table, &res); err != nil {
		t.Errorf("createTable on an existing table: %v", err)
	}

	busARN, err := createBus(ctx, eventbridge.NewFromConfig(cfg), names.EventBus, &res)
	if err != nil || busARN != existing.EventBusARN {
		t.Errorf("createBus on an existing bus: %v (ARN %q, want %q)", err, busARN,
			existing.EventBusARN)
	}

	keys := kms.NewFromConfig(cfg)
	key, err := createKey(ctx, keys, names.KeyAlias, &res)
	if err != nil {
		t.Fatalf("createKey on an existing alias: %v", err)
	}
	if aws.ToString(key.KeyId) != existing.KeyID {
		t.Errorf("createKey settled on %s, want the aliased %s", aws.ToString(key.KeyId),
			existing.KeyID)
	}
	if len(res.Created) != 1 || res.Created[0] != "key" {
		t.Errorf("created %q, want only the losing key", res.Created)
	}
	assertOneKeyPendingDeletion(ctx, t, keys, existing.KeyID)
}

func assertOneKeyPendingDeletion(ctx context.Context, t *testing.T, keys *kms.Client,
	keep string) {
	t.Helper()
	list, err := keys.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	pending := 0
	for _, k := range list.Keys {
		out, err := keys.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
		if err != nil {
			t.Fatal(err)
		}
		state := out.KeyMetadata.KeyState
		switch {
		case aws.ToString(k.KeyId) == keep && state != kmstypes.KeyStateEnabled:
			t.Errorf("kept key is %s", state)
		case state == kmstypes.KeyStatePendingDeletion:
			pending++
		}
	}
	if pending != 1 {
		t.Errorf("%d keys pending deletion, want the one that lost the race", pending)
	}
}

// Existing resources of the wrong shape are reported, not used or repaired.
func TestBootstrapRefusesMisshapenResources(t *testing.T) {
	cfg := bootstrapConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	db := dynamodb.NewFromConfig(cfg)
	keys := kms.NewFromConfig(cfg)

	tests := []struct {
		name    string
		prepare func(names *Names) error
		wantErr string
	}{
		{"table keyed differently", func(n *Names) error {
			in := TableInput(n.Table)
			in.KeySchema = in.KeySchema[:1] // pk only
			in.AttributeDefinitions = slices.DeleteFunc(in.AttributeDefinitions,
				func(d dbtypes.AttributeDefinition) bool { return *d.AttributeName == AttrSK })
			_, err := db.CreateTable(ctx, in)
			return err
		}, "table exists with another key schema"},
		{"table without stream", func(n *Names) error {
			in := TableInput(n.Table)
			in.StreamSpecification = nil
			_, err := db.CreateTable(ctx, in)
			return err
		}, "without a stream"},
		{"TTL on another attribute", func(n *Names) error {
			if _, err := db.CreateTable(ctx, TableInput(n.Table)); err != nil {
				return err
			}
			ttl := TTLInput(n.Table)
			ttl.TimeToLiveSpecification.AttributeName = aws.String("deleteAfter")
			_, err := db.UpdateTimeToLive(ctx, ttl)
			return err
		}, `time to live is on "deleteAfter"`},
		{"key disabled", func(n *Names) error {
			res, err := Bootstrap(ctx, cfg, Names{KeyAlias: n.KeyAlias}, false)
			if err != nil {
				return err
			}
			_, err = keys.DisableKey(ctx, &kms.DisableKeyInput{KeyId: &res.KeyID})
			return err
		}, "is Disabled, not Enabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := testNames()
			names.EventBus, names.TestQueue = "", ""
			if err := tt.prepare(&names); err != nil {
				t.Fatalf("preparing: %v", err)
			}
			_, err := Bootstrap(ctx, cfg, names, false)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// The table check reads the description DynamoDB returns; moto and AWS
// both fill the fields it reads.
func TestCheckTableAcceptsTableInput(t *testing.T) {
	in := TableInput("t")
	desc := &dbtypes.TableDescription{
		TableName:           in.TableName,
		KeySchema:           in.KeySchema,
		StreamSpecification: in.StreamSpecification,
		GlobalSecondaryIndexes: []dbtypes.GlobalSecondaryIndexDescription{{
			IndexName: in.GlobalSecondaryIndexes[0].IndexName,
			KeySchema: in.GlobalSecondaryIndexes[0].KeySchema,
		}},
	}
	if err := checkTable(desc); err != nil {
		t.Errorf("checkTable: %v", err)
	}
	desc.GlobalSecondaryIndexes = nil
	if err := checkTable(desc); err == nil || !strings.Contains(err.Error(), "without index") {
		t.Errorf("checkTable without the index: %v", err)
	}
}
