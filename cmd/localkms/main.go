// Command localkms serves the local-kms KMS emulator (shared/localkms) as a
// process of its own on 127.0.0.1, for running the service against
// emulators outside tests: moto_server for DynamoDB, EventBridge and SQS,
// this for KMS. Unlike moto's KMS it enforces key state, so a disabled key
// fails as it would in AWS.
//
//	ATLAS_KMS_ADDR=127.0.0.1:4599 go run ./cmd/localkms
//	export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:4599
//
// Environment:
//
//	ATLAS_KMS_ADDR    where to listen; 127.0.0.1:4599 by default. Only a
//	                  loopback address is accepted.
//	ATLAS_KMS_DATA    folder for the key store (LevelDB); a temporary folder,
//	                  removed on exit, by default.
//	ATLAS_KMS_KEY_ID  the alias to make sure of; infra's default alias by
//	                  default. A key is created behind it when it is missing.
//	AWS_REGION        the region in key ARNs; us-east-1 by default.
//
// It prints AWS_ENDPOINT_URL_KMS=… and ATLAS_KMS_KEY_ID=… lines on standard
// output once it serves, and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/atlas-network-tokens/atlas/shared/infra"
	"github.com/atlas-network-tokens/atlas/shared/localkms"
)

const defaultAddr = "127.0.0.1:4599"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "localkms:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	addr := orDefault(getenv("ATLAS_KMS_ADDR"), defaultAddr)
	if err := loopbackOnly(addr); err != nil {
		return err
	}
	alias := orDefault(getenv("ATLAS_KMS_KEY_ID"), infra.DefaultKeyAlias)
	if !strings.HasPrefix(alias, "alias/") {
		return fmt.Errorf("ATLAS_KMS_KEY_ID must be an alias (alias/…), not %q", alias)
	}
	dir := getenv("ATLAS_KMS_DATA")
	if dir == "" {
		tmp, err := os.MkdirTemp("", "atlas-localkms-")
		if err != nil {
			return fmt.Errorf("making a data folder: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	emulator, err := localkms.Start(dir,
		localkms.WithRegion(orDefault(getenv("AWS_REGION"), localkms.DefaultRegion)))
	if err != nil {
		return err
	}
	defer emulator.Close()
	if err := ensureAlias(ctx, emulator, alias); err != nil {
		return err
	}
	return serve(ctx, addr, emulator.Handler(), stdout, alias)
}

func orDefault(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

// loopbackOnly refuses an address that is not an IP loopback one: the
// emulator checks no credentials.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("ATLAS_KMS_ADDR %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("ATLAS_KMS_ADDR %q: only a loopback IP such as 127.0.0.1 is allowed",
			addr)
	}
	return nil
}

// ensureAlias creates a key behind alias unless the alias already names one.
func ensureAlias(ctx context.Context, emulator *localkms.Server, alias string) error {
	_, err := emulator.Client().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &alias})
	var notFound *types.NotFoundException
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &notFound):
		return fmt.Errorf("looking up %s: %w", alias, err)
	}
	if _, err := emulator.CreateKey(ctx, alias); err != nil {
		return err
	}
	return nil
}

func serve(ctx context.Context, addr string, h http.Handler, stdout io.Writer,
	alias string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "AWS_ENDPOINT_URL_KMS=http://%s\nATLAS_KMS_KEY_ID=%s\n", ln.Addr(), alias)

	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
