// Command atlas-dev serves every route of the API on 127.0.0.1 through the
// same handler values the Lambda functions use. By default it runs on the
// in-process dev stack (minidyn for DynamoDB, local-kms for KMS, events as
// JSON lines on stdout); ATLAS_BACKEND=aws points it at the standard AWS
// configuration instead (moto, LocalStack or a real account).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/app"
	"github.com/atlas-network-tokens/atlas/shared/devstack"
	"github.com/atlas-network-tokens/atlas/shared/httpapi"
	"github.com/atlas-network-tokens/atlas/shared/logging"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/secret"
	"github.com/atlas-network-tokens/atlas/shared/tokens"
	"github.com/atlas-network-tokens/atlas/shared/webhook"
)

const devMerchant = "mer_dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "atlas-dev:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, stdout, stderr io.Writer) error {
	cfg, err := app.ConfigFromEnv()
	if err != nil {
		return err
	}
	log := logging.New(stderr, cfg.LogLevel)

	wake := make(chan struct{}, 1)
	a, cleanup, err := build(ctx, cfg, stdout, log, wake)
	if err != nil {
		return err
	}
	defer cleanup()

	key := os.Getenv("ATLAS_DEV_SECRET_KEY")
	if key == "" {
		key = tokens.NewSecret(tokens.PrefixSecretKey + "test_")
	}
	if err := a.Service.RegisterMerchantKey(ctx, devMerchant, key); err != nil {
		return fmt.Errorf("registering the dev merchant: %w", err)
	}
	go a.Relay.Run(ctx, wake, time.Second)

	addr := os.Getenv("ATLAS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:3000"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: httpapi.LocalServer(a.Handlers.Routes()), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()

	fmt.Fprint(stdout, walkthrough("http://"+ln.Addr().String(), key))
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// build wires the App on the chosen backend.
func build(ctx context.Context, cfg app.Config, stdout io.Writer, log *slog.Logger,
	wake chan struct{}) (*app.App, func(), error) {
	opts := app.Options{Queued: func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}}
	hooks, err := localWebhooks(stdout)
	if err != nil {
		return nil, nil, err
	}
	opts.LocalWebhooks = hooks
	switch backend := os.Getenv("ATLAS_BACKEND"); backend {
	case "aws":
		b, err := app.AWSBackends(ctx, cfg, log)
		if err != nil {
			return nil, nil, err
		}
		log.Info("using the standard AWS configuration", "table", cfg.Table, "event_bus", cfg.EventBus)
		return app.New(cfg, b, log, opts), func() {}, nil
	case "", "embedded":
		return buildEmbedded(ctx, cfg, stdout, log, opts)
	default:
		return nil, nil, fmt.Errorf("ATLAS_BACKEND must be embedded or aws, not %q", backend)
	}
}

func buildEmbedded(ctx context.Context, cfg app.Config, stdout io.Writer, log *slog.Logger,
	opts app.Options) (*app.App, func(), error) {
	dir, err := os.MkdirTemp("", "atlas-dev-")
	if err != nil {
		return nil, nil, err
	}
	stack, err := devstack.Start(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	cleanup := func() {
		stack.Close()
		os.RemoveAll(dir)
	}
	pub, err := publish.NewJSONLines(stdout)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	cfg.Table, cfg.KeyID = stack.Table, stack.KeyID
	b := app.Backends{DynamoDB: stack.DynamoDB, KMS: stack.KMS, Publisher: pub}
	return app.New(cfg, b, log, opts), cleanup, nil
}

// localWebhooks stands in for the EventBridge rule and the dispatcher
// function: every event goes to the merchants' registered endpoints and,
// when ATLAS_WEBHOOK_URL is set, to that URL too, signed with
// ATLAS_WEBHOOK_SECRET or with a secret made up here and printed.
func localWebhooks(stdout io.Writer) (*webhook.DispatcherConfig, error) {
	url := os.Getenv("ATLAS_WEBHOOK_URL")
	if url == "" {
		return &webhook.DispatcherConfig{}, nil
	}
	if err := (webhook.Policy{AllowLoopback: true}).Check(url); err != nil {
		return nil, fmt.Errorf("ATLAS_WEBHOOK_URL: %w", err)
	}
	signing := os.Getenv("ATLAS_WEBHOOK_SECRET")
	if signing == "" {
		signing = tokens.NewSecret(webhook.PrefixSecret)
	}
	fmt.Fprintf(stdout, "Webhooks: every event is also POSTed to %s, signed with %s\n\n", url, signing)
	target := webhook.Target{EndpointID: "ATLAS_WEBHOOK_URL", URL: url, Secret: secret.New(signing)}
	return &webhook.DispatcherConfig{Extra: []webhook.Target{target}}, nil
}
