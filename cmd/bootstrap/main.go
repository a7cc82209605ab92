// Command bootstrap creates the AWS resources the service needs where they
// are missing and leaves those that exist: the DynamoDB table with TTL, the
// KMS key and its alias, the EventBridge bus and, with -test-queue, an SQS
// queue that receives every event on the bus. Running it twice is safe.
//
// It reaches AWS with the standard configuration, so AWS_ENDPOINT_URL (and
// per-service AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_KMS, …) point it
// at emulators. It prints the names and ARNs as KEY=value lines on standard
// output, for eval or an env file, and what it created on standard error:
//
//	eval "$(go run ./cmd/bootstrap -test-queue)"
//
// Names come from flags, else from ATLAS_TABLE_NAME, ATLAS_KMS_KEY_ID (an
// alias), ATLAS_EVENT_BUS_NAME and ATLAS_TEST_QUEUE_NAME, else the defaults.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/atlas-network-tokens/atlas/shared/infra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()

	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "bootstrap failed:", err)
		os.Exit(1)
	}
}

// errUsage marks a bad command line, which the flag package has reported.
var errUsage = errors.New("usage")

// options are the command line after defaults from the environment.
type options struct {
	names     infra.Names
	testQueue bool
	timeout   time.Duration
}

func parseOptions(args []string, getenv func(string) string,
	stderr io.Writer) (options, error) {
	defaults := infra.DefaultNames()
	orDefault := func(env, fallback string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return fallback
	}

	var o options
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.names.Table, "table", orDefault("ATLAS_TABLE_NAME", defaults.Table),
		"DynamoDB table name (env ATLAS_TABLE_NAME)")
	fs.StringVar(&o.names.KeyAlias, "key-alias",
		orDefault("ATLAS_KMS_KEY_ID", defaults.KeyAlias),
		"KMS key alias, alias/… (env ATLAS_KMS_KEY_ID)")
	fs.StringVar(&o.names.EventBus, "event-bus",
		orDefault("ATLAS_EVENT_BUS_NAME", defaults.EventBus),
		"EventBridge bus name (env ATLAS_EVENT_BUS_NAME)")
	fs.BoolVar(&o.testQueue, "test-queue", false,
		"also create an SQS queue fed every event on the bus, for tests")
	fs.StringVar(&o.names.TestQueue, "test-queue-name",
		orDefault("ATLAS_TEST_QUEUE_NAME", defaults.TestQueue),
		"SQS test queue name (env ATLAS_TEST_QUEUE_NAME)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bootstrap: unexpected argument %q\n", fs.Arg(0))
		return o, errUsage
	}
	if !strings.HasPrefix(o.names.KeyAlias, "alias/") {
		return o, fmt.Errorf("the key must be named by an alias (alias/…), not %q",
			o.names.KeyAlias)
	}
	if o.names.Table == "" || o.names.EventBus == "" {
		return o, errors.New("table and event bus names must not be empty")
	}
	if !o.testQueue {
		o.names.TestQueue = ""
	}
	return o, nil
}

func run(ctx context.Context, args []string, getenv func(string) string,
	stdout, stderr io.Writer) error {
	o, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("loading AWS configuration: %w", err)
	}
	res, err := infra.Bootstrap(ctx, cfg, o.names, o.testQueue)
	if err != nil {
		return err
	}

	if len(res.Created) == 0 {
		fmt.Fprintln(stderr, "bootstrap: everything already existed; nothing changed")
	} else {
		fmt.Fprintln(stderr, "bootstrap: created", strings.Join(res.Created, ", "))
	}
	return writeEnv(stdout, envLines(res))
}

// envLines lists the variables to print, in order, leaving out empty ones.
func envLines(res infra.Result) [][2]string {
	all := [][2]string{
		{"ATLAS_TABLE_NAME", res.Table},
		{"ATLAS_TABLE_ARN", res.TableARN},
		{"ATLAS_KMS_KEY_ID", res.KeyAlias},
		{"ATLAS_KMS_KEY_ARN", res.KeyARN},
		{"ATLAS_EVENT_BUS_NAME", res.EventBus},
		{"ATLAS_EVENT_BUS_ARN", res.EventBusARN},
		{"ATLAS_TEST_QUEUE_URL", res.TestQueueURL},
		{"ATLAS_TEST_QUEUE_ARN", res.TestQueueARN},
	}
	var lines [][2]string
	for _, kv := range all {
		if kv[1] != "" {
			lines = append(lines, kv)
		}
	}
	return lines
}

// plainValue is what a value may hold to be printed bare: it means the same
// to a shell, to Docker's --env-file and to Make's include.
var plainValue = regexp.MustCompile(`^[A-Za-z0-9_./:@%+,=-]+$`)

// writeEnv prints KEY=value lines. A value with other characters is refused
// rather than quoted, since the readers of such files quote differently;
// AWS names, ARNs and queue URLs never have them.
func writeEnv(w io.Writer, lines [][2]string) error {
	var b strings.Builder
	for _, kv := range lines {
		if !plainValue.MatchString(kv[1]) {
			return fmt.Errorf("%s has characters unsafe in an env file: %q", kv[0], kv[1])
		}
		b.WriteString(kv[0] + "=" + kv[1] + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
