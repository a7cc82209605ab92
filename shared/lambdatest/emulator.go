package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/apitest"
)

// invokePath is where the emulator takes invocations, as Lambda's Invoke API.
const invokePath = "/2015-03-31/functions/function/invocations"

// readyTimeout bounds how long Start waits for the emulator to listen.
const readyTimeout = 15 * time.Second

// Emulator is one aws-lambda-rie process serving one bootstrap on 127.0.0.1.
// It takes one invocation at a time, as one Lambda execution environment does.
type Emulator struct {
	url    string
	cmd    *exec.Cmd
	output *apitest.Buffer
	exited chan struct{} // closed once the process has been waited for

	invoke   sync.Mutex
	stopOnce sync.Once
	stopErr  error
}

// Start runs bootstrap under the emulator and returns once the emulator
// accepts invocations. Both of its ports (the invoke endpoint and the Runtime
// API the bootstrap polls) are free loopback ports, so several emulators can
// run at once.
//
// env is the function's whole environment, as KEY=VALUE: the emulator hands
// its own environment to the bootstrap, and nothing of the caller's process
// is inherited. Start adds PATH and AWS_LAMBDA_FUNCTION_TIMEOUT (30 s, the
// API's limit) when env does not set them. The bootstrap's working folder
// is its own folder, as /var/task is in Lambda.
//
// ctx bounds the start only; Stop ends the process.
func Start(ctx context.Context, bootstrap string, env []string) (*Emulator, error) {
	rie, err := emulatorPath()
	if err != nil {
		return nil, err
	}
	if info, err := os.Stat(bootstrap); err != nil || info.IsDir() {
		return nil, fmt.Errorf("starting emulator: no bootstrap file at %s", bootstrap)
	}

	addrs, err := freeLoopbackAddrs(2)
	if err != nil {
		return nil, fmt.Errorf("starting emulator: %w", err)
	}
	invokeAddr, runtimeAPIAddr := addrs[0], addrs[1]

	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAPIAddr,
		"--log-level", "error",
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = withDefaults(env, "PATH=/usr/local/bin:/usr/bin:/bin", "AWS_LAMBDA_FUNCTION_TIMEOUT=30")
	output := &apitest.Buffer{}
	cmd.Stdout, cmd.Stderr = output, output
	cmd.WaitDelay = time.Second // a runtime left holding the output pipe must not block Wait
	ownProcessGroup(cmd)

	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting emulator: %w", err)
	}
	e := &Emulator{
		url:    "http://" + invokeAddr + invokePath,
		cmd:    cmd,
		output: output,
		exited: make(chan struct{}),
	}
	go func() {
		_ = cmd.Wait() // the exit is reported through exited and Stop
		close(e.exited)
	}()

	if err := e.awaitListening(ctx, invokeAddr); err != nil {
		_ = e.Stop()
		return nil, fmt.Errorf("starting emulator: %w\n%s", err, e.Output())
	}
	return e, nil
}

// URL is the emulator's invoke endpoint.
func (e *Emulator) URL() string { return e.url }

// Output is everything the emulator and the function have written to
// stdout and stderr so far: the function's logs, and START/END/REPORT lines.
func (e *Emulator) Output() string { return e.output.String() }

// Invoke sends payload as the invocation event and returns the function's
// response payload. A handler error, a panic, a crash or a timeout is a
// *FunctionError.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	e.invoke.Lock()
	defer e.invoke.Unlock()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoking: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoking: %w", err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading invoke response: %w", err)
	}
	if ferr := functionError(resp, body); ferr != nil {
		return nil, ferr
	}
	return body, nil
}

// InvokeHTTP invokes the function with an API Gateway HTTP API event
// (payload format 2.0), such as one of events/*.json, and decodes the
// function's response. A response that is not an APIGatewayV2HTTPResponse
// with a status code is an error.
func (e *Emulator) InvokeHTTP(ctx context.Context, event []byte) (events.APIGatewayV2HTTPResponse, error) {
	var resp events.APIGatewayV2HTTPResponse

	payload, err := e.Invoke(ctx, event)
	if err != nil {
		return resp, err
	}

	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		return resp, fmt.Errorf("decoding HTTP response: %w: %s", err, payload)
	}
	if resp.StatusCode == 0 {
		return resp, fmt.Errorf("decoding HTTP response: no statusCode: %s", payload)
	}
	return resp, nil
}

// InvokeRequest marshals req and invokes the function with it (see InvokeHTTP).
func (e *Emulator) InvokeRequest(
	ctx context.Context, req events.APIGatewayV2HTTPRequest,
) (events.APIGatewayV2HTTPResponse, error) {
	event, err := json.Marshal(req)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("encoding event: %w", err)
	}
	return e.InvokeHTTP(ctx, event)
}

// Stop ends the emulator and the bootstrap it started. It may be called
// more than once; later calls return the first call's result.
func (e *Emulator) Stop() error {
	e.stopOnce.Do(func() {
		select {
		case <-e.exited:
			// The emulator died on its own; its bootstrap may live on.
			_ = killProcessGroup(e.cmd)
			e.stopErr = fmt.Errorf("emulator had already exited: %v", e.cmd.ProcessState)
			return
		default:
		}

		if err := killProcessGroup(e.cmd); err != nil {
			e.stopErr = fmt.Errorf("stopping emulator: %w", err)
			return
		}
		select {
		case <-e.exited:
		case <-time.After(5 * time.Second):
			e.stopErr = errors.New("stopping emulator: still running 5s after SIGKILL")
		}
	})
	return e.stopErr
}

func (e *Emulator) awaitListening(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()

	var dialer net.Dialer
	for {
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn.Close()
		}

		select {
		case <-e.exited:
			return fmt.Errorf("emulator exited before listening: %v", e.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("emulator not listening on %s: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// freeLoopbackAddrs finds n distinct free TCP ports on 127.0.0.1. The
// listeners are held until all n are found, then released for the emulator.
func freeLoopbackAddrs(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// withDefaults returns env with each KEY=VALUE of defaults appended whose
// KEY env does not set.
func withDefaults(env []string, defaults ...string) []string {
	out := append([]string(nil), env...)
	for _, kv := range defaults {
		key, _, _ := strings.Cut(kv, "=")
		if !hasKey(env, key) {
			out = append(out, kv)
		}
	}
	return out
}

func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}
