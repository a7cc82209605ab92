// Command merchant-key issues a secret key for a merchant: it generates
// "sk_" and 256 random bits, stores only its SHA-256 in the table, and
// prints the key once on standard output. It is how a deployment gets its
// first merchant (the dev server registers its own dev merchant).
//
//	go run ./cmd/merchant-key -merchant mer_acme
//
// It reaches DynamoDB with the standard AWS configuration and the table in
// ATLAS_TABLE_NAME (or -table).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/atlas-network-tokens/atlas/shared/infra"
	"github.com/atlas-network-tokens/atlas/shared/store"
	"github.com/atlas-network-tokens/atlas/shared/tokens"
)

var merchantPattern = regexp.MustCompile(`^mer_[A-Za-z0-9_]{1,64}$`)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "merchant-key:", err)
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merchant-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	merchant := fs.String("merchant", "", "merchant id, mer_…")
	table := fs.String("table", envOr("ATLAS_TABLE_NAME", infra.DefaultTable), "DynamoDB table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !merchantPattern.MatchString(*merchant) {
		return errors.New("-merchant must be mer_ followed by 1 to 64 letters, digits or _")
	}

	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("loading AWS configuration: %w", err)
	}
	st := store.New(dynamodb.NewFromConfig(cfg), *table, time.Now)
	key := tokens.NewSecret(tokens.PrefixSecretKey)
	if err := st.PutMerchantKey(ctx, *merchant, tokens.HashSecret(key)); err != nil {
		return fmt.Errorf("storing the key: %w", err)
	}
	_, err = fmt.Fprintln(stdout, key)
	return err
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
