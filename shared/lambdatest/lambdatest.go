// Package lambdatest runs a function's real Lambda artifact in tests: the
// bootstrap binary, built with the flags `make build` uses but for this
// machine's architecture, served by the AWS Lambda Runtime Interface Emulator
// (aws-lambda-rie, pinned as a Go tool in go.mod) on 127.0.0.1, and invoked
// with the API Gateway event a real request would produce.
//
// It is what `sam local invoke` does inside a container, without Docker. The
// emulator runs Linux binaries of the host architecture only, so the package
// works on Linux.
//
// The emulator reports failures three ways, and Invoke turns each into a
// *FunctionError: a handler that returns a Go error comes back as HTTP 200
// with an errorMessage body and no X-Amz-Function-Error header; a panic or a
// crashed runtime comes back as a 502; anything else not 200 is an emulator
// failure.
package lambdatest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// BuildTags and LinkerFlags are the build settings of the deployed functions;
// CGO is off and paths are trimmed as well.
const (
	BuildTags   = "lambda.norpc"
	LinkerFlags = "-s -w"
)

// Build compiles the main package pkg into dir/bootstrap as a static Linux
// binary for the host architecture and returns the binary's path. pkg is
// resolved from the module root: a folder such as "./functions/session" or
// an import path.
func Build(ctx context.Context, pkg, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}

	bootstrap := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", BuildTags, "-trimpath",
		"-ldflags", LinkerFlags, "-o", bootstrap, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", pkg, err, out)
	}
	return bootstrap, nil
}

// Run builds pkg (see Build) into a temporary folder and starts it under
// the emulator with env (see Start). The emulator stops when the test ends;
// if the test failed, its output (the function's logs) goes to the test log.
// Any error fails the test at once.
func Run(t testing.TB, pkg string, env []string) *Emulator {
	t.Helper()

	bootstrap, err := Build(t.Context(), pkg, t.TempDir())
	if err != nil {
		t.Fatalf("lambdatest: %v", err)
	}

	emulator, err := Start(t.Context(), bootstrap, env)
	if err != nil {
		t.Fatalf("lambdatest: %v", err)
	}
	t.Cleanup(func() {
		if err := emulator.Stop(); err != nil {
			t.Errorf("lambdatest: %v", err)
		}
		if t.Failed() {
			t.Logf("lambdatest: output of %s:\n%s", pkg, emulator.Output())
		}
	})
	return emulator
}

var emulatorPath = sync.OnceValues(func() (string, error) {
	root, err := moduleRoot(context.Background())
	if err != nil {
		return "", err
	}

	// `go tool -n` builds the tool once into the build cache and prints
	// where it is, so later runs start the binary directly.
	cmd := exec.Command("go", "tool", "-n", "aws-lambda-rie")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("finding aws-lambda-rie (go tool in go.mod): %w%s", err, stderrOf(err))
	}
	return strings.TrimSpace(string(out)), nil
})

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w%s", err, stderrOf(err))
	}

	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("finding the module root: not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

func stderrOf(err error) string {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && len(exitErr.Stderr) > 0 {
		return "\n" + string(exitErr.Stderr)
	}
	return ""
}
