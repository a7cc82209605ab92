package functions_test

// The artifact test runs what gets deployed: every function's bootstrap,
// built with the flags of `make build` for this machine, under the Lambda
// Runtime Interface Emulator (shared/lambdatest) on 127.0.0.1, against
// moto_server (DynamoDB, EventBridge, SQS) and local-kms. It drives the
// published flow with the sample events of events/, their placeholders
// swapped for the ids earlier steps handed out, and checks every answer.
//
// A handler that panics or returns a Go error fails the step that invoked
// it: lambdatest reports both as a *FunctionError.
//
// It needs moto: run it with `scripts/emulators.sh go test ./functions/`
// (make test does). Without ATLAS_MOTO_URL it skips, and fails under CI.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/atlas-network-tokens/atlas/shared/app"
	"github.com/atlas-network-tokens/atlas/shared/infra"
	"github.com/atlas-network-tokens/atlas/shared/infra/mototest"
	"github.com/atlas-network-tokens/atlas/shared/lambdatest"
	"github.com/atlas-network-tokens/atlas/shared/localkms"
	"github.com/atlas-network-tokens/atlas/shared/publish"
)

// httpFunctions are the functions behind API routes; the flow needs each.
var httpFunctions = []string{
	"session", "tokenize", "provision", "cryptogram", "get", "delete", "suspend", "resume",
	"simulate", "authorize", "notifications", "webhook-endpoints",
}

// eventFunctions are invoked by AWS services, not by API Gateway. A name
// in optionalFunctions may not have a folder yet; its step then skips.
var (
	eventFunctions    = []string{"dispatcher", "relay", "sweeper"}
	optionalFunctions = []string{"relay", "sweeper"}
)

// Merchants of the test: one makes tokens, the other owns the webhook
// endpoint, so that the dispatcher never has a merchant endpoint to call.
const (
	merchantID      = "mer_artifact"
	hooksMerchantID = "mer_artifact_hooks"
	customerID      = "cus_artifact"
)

func TestArtifacts(t *testing.T) {
	checkCoverage(t)
	env := startBackends(t)

	start := time.Now()
	fns := startFunctions(t, env)
	t.Logf("built and started %d bootstraps in %v",
		len(fns), time.Since(start).Round(time.Millisecond))

	f := newFlow(t, env, fns)
	start = time.Now()
	for _, step := range f.steps() {
		if !t.Run(step.name, step.run) {
			t.Errorf("flow stopped at %q: later steps depend on it", step.name)
			break
		}
	}
	t.Logf("flow took %v", time.Since(start).Round(time.Millisecond))

	t.Run("no secret in logs, storage or events", f.checkNoLeaks)
	t.Run("logs are JSON lines", f.checkJSONLogs)
}

// checkCoverage fails when a folder under functions/ has no place in this
// test, so a new function cannot ship without its artifact being run.
func checkCoverage(t *testing.T) {
	t.Helper()
	mains, err := filepath.Glob("*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no functions/*/main.go found (%v)", err)
	}
	known := slices.Concat(httpFunctions, eventFunctions)
	for _, m := range mains {
		if name := filepath.Dir(m); !slices.Contains(known, name) {
			t.Errorf("functions/%s is not run by the artifact test; add it to %s",
				name, "functions/artifact_test.go")
		}
	}
}

// backends are the emulated AWS services, and an App on them for what the
// test itself must do: register merchant keys, read records and the outbox.
type backends struct {
	awsCfg   aws.Config
	names    infra.Names
	queueURL string
	app      *app.App
	env      []string // the functions' environment, less the per-function part
}

func startBackends(t *testing.T) *backends {
	t.Helper()
	motoURL := mototest.URL(t) // skips or fails first, before anything is built
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = localkms.DefaultRegion
	}
	kmsServer, err := localkms.Start(t.TempDir(), localkms.WithRegion(region))
	if err != nil {
		t.Fatalf("starting local-kms: %v", err)
	}
	// Registered before any emulator, so it runs after they have stopped.
	t.Cleanup(func() { _ = kmsServer.Close() })
	t.Setenv("AWS_ENDPOINT_URL_KMS", kmsServer.URL)
	cfg := mototest.Config(t)

	names := infra.Names{
		Table:     mototest.Name("atlas-artifact"),
		KeyAlias:  "alias/" + mototest.Name("atlas-artifact"),
		EventBus:  mototest.Name("atlas-artifact"),
		TestQueue: mototest.Name("atlas-artifact"),
	}
	res, err := infra.Bootstrap(t.Context(), cfg, names, true)
	if err != nil {
		t.Fatalf("bootstrapping moto and local-kms: %v", err)
	}

	appCfg := app.Config{Table: names.Table, KeyID: names.KeyAlias, EventBus: names.EventBus,
		Stage: app.StageSandbox}
	bus, err := publish.NewEventBridge(eventbridge.NewFromConfig(cfg), names.EventBus)
	if err != nil {
		t.Fatal(err)
	}
	b := app.Backends{
		DynamoDB: dynamodb.NewFromConfig(cfg), KMS: kms.NewFromConfig(cfg), Publisher: bus,
	}
	a := app.New(appCfg, b, slog.New(slog.DiscardHandler), app.Options{})

	return &backends{
		awsCfg: cfg, names: names, queueURL: res.TestQueueURL, app: a,
		env: []string{
			"AWS_REGION=" + cfg.Region,
			"AWS_ACCESS_KEY_ID=test",
			"AWS_SECRET_ACCESS_KEY=test",
			"AWS_ENDPOINT_URL=" + motoURL,
			"AWS_ENDPOINT_URL_KMS=" + kmsServer.URL,
			"ATLAS_TABLE_NAME=" + names.Table,
			"ATLAS_KMS_KEY_ID=" + names.KeyAlias,
			"ATLAS_EVENT_BUS_NAME=" + names.EventBus,
			"ATLAS_STAGE=" + app.StageSandbox,
			"ATLAS_LOG_LEVEL=debug", // the most the functions ever log
		},
	}
}

func (b *backends) sqs() *sqs.Client { return sqs.NewFromConfig(b.awsCfg) }

// startFunctions builds every function that exists and starts each under
// its own emulator. The emulators stop when the test ends; a failed test
// gets each function's output in its log.
func startFunctions(t *testing.T, b *backends) map[string]*lambdatest.Emulator {
	t.Helper()
	var names []string
	for _, name := range slices.Concat(httpFunctions, eventFunctions) {
		if _, err := os.Stat(filepath.Join(name, "main.go")); err != nil &&
			slices.Contains(optionalFunctions, name) {
			continue
		}
		names = append(names, name)
	}

	started := time.Now()
	bootstraps, err := buildAll(t.Context(), t.TempDir(), names)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d bootstraps in %v", len(names), time.Since(started).Round(time.Millisecond))

	fns := map[string]*lambdatest.Emulator{}
	for _, name := range names {
		env := append(slices.Clip(b.env), "AWS_LAMBDA_FUNCTION_NAME="+name)
		e, err := lambdatest.Start(t.Context(), bootstraps[name], env)
		if err != nil {
			t.Fatalf("functions/%s: %v", name, err)
		}
		t.Cleanup(func() { stopFunction(t, name, e) })
		fns[name] = e
	}
	return fns
}

// buildAll builds functions/<name> for each name into dir/<name>/bootstrap,
// with lambdatest's settings (those of `make build`, for this machine),
// and returns the paths by name. One go build makes them all: it compiles
// the shared packages once, and separate go commands racing on a cold
// build cache have failed with "could not import reflect (open : no such
// file or directory)".
func buildAll(ctx context.Context, dir string, names []string) (map[string]string, error) {
	out := filepath.Join(dir, "out")
	args := []string{"build", "-tags", lambdatest.BuildTags, "-trimpath",
		"-ldflags", lambdatest.LinkerFlags, "-o", out + string(filepath.Separator)}
	for _, name := range names {
		args = append(args, "./functions/"+name)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = ".." // the module root: go test runs this package in functions/
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the functions: %w\n%s", err, msg)
	}

	paths := map[string]string{}
	for _, name := range names {
		bootstrap := filepath.Join(dir, name, "bootstrap")
		if err := os.Mkdir(filepath.Dir(bootstrap), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(filepath.Join(out, name), bootstrap); err != nil {
			return nil, fmt.Errorf("building the functions: %w", err)
		}
		paths[name] = bootstrap
	}
	return paths, nil
}

func stopFunction(t *testing.T, name string, e *lambdatest.Emulator) {
	if err := e.Stop(); err != nil {
		t.Errorf("stopping %s: %v", name, err)
	}
	if t.Failed() {
		t.Logf("output of functions/%s:\n%s", name, e.Output())
	}
}
