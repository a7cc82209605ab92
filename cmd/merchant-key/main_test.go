package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/devstack"
	"github.com/atlas-network-tokens/atlas/shared/store"
	"github.com/atlas-network-tokens/atlas/shared/tokens"
)

func TestIssuesAKeyStoredOnlyAsItsHash(t *testing.T) {
	ctx := context.Background()
	stack, err := devstack.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Close() })
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", stack.DynamoURL)
	t.Setenv("AWS_REGION", devstack.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("ATLAS_TABLE_NAME", stack.Table)

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"-merchant", "mer_acme"}, &out, &errOut); err != nil {
		t.Fatalf("run: %v (%s)", err, errOut.String())
	}
	key := strings.TrimSpace(out.String())
	if !strings.HasPrefix(key, tokens.PrefixSecretKey) || len(key) != len("sk_")+64 {
		t.Fatalf("printed %q, want sk_ and 64 hex digits", key)
	}
	mk, err := store.New(stack.DynamoDB, stack.Table, time.Now).MerchantKey(ctx, tokens.HashSecret(key))
	if err != nil || mk.MerchantID != "mer_acme" {
		t.Fatalf("stored key = %+v, %v", mk, err)
	}

	for _, bad := range [][]string{{}, {"-merchant", "acme"}, {"-merchant", "mer_x y"}} {
		if err := run(ctx, bad, &out, &errOut); err == nil {
			t.Errorf("run(%q) accepted a bad merchant id", bad)
		}
	}
}
