package lambdatest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

const echoPkg = "./shared/lambdatest/testdata/echo"

// echoReply is the body testdata/echo answers with.
type echoReply struct {
	RouteKey string `json:"routeKey"`
	Method   string `json:"method"`
	Path     string `json:"path"`
	ID       string `json:"id"`
	Body     string `json:"body"`
	Env      string `json:"env"`
}

func TestInvokeAnswers(t *testing.T) {
	emulator := Run(t, echoPkg, []string{"ATLAS_STAGE=sandbox"})

	tests := []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
		want echoReply
	}{
		{
			name: "post with body",
			req:  request("POST /things", "POST", "/things", `{"a":1}`, nil, nil),
			want: echoReply{RouteKey: "POST /things", Method: "POST", Path: "/things", Body: `{"a":1}`},
		},
		{
			name: "path parameter",
			req: request("GET /things/{id}", "GET", "/things/nt_1", "",
				map[string]string{"id": "nt_1"}, nil),
			want: echoReply{RouteKey: "GET /things/{id}", Method: "GET", Path: "/things/nt_1", ID: "nt_1"},
		},
		{
			name: "environment reaches the function",
			req:  request("GET /env", "GET", "/env", "", nil, map[string]string{"env": "ATLAS_STAGE"}),
			want: echoReply{RouteKey: "GET /env", Method: "GET", Path: "/env", Env: "sandbox"},
		},
		{
			name: "caller's environment does not",
			req:  request("GET /env", "GET", "/env", "", nil, map[string]string{"env": "HOME"}),
			want: echoReply{RouteKey: "GET /env", Method: "GET", Path: "/env"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := emulator.InvokeRequest(t.Context(), tt.req)
			if err != nil {
				t.Fatalf("InvokeRequest: %v", err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}

			var got echoReply
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatalf("decoding body %q: %v", resp.Body, err)
			}
			if got != tt.want {
				t.Errorf("echo = %+v, want %+v", got, tt.want)
			}
		})
	}

	if out := emulator.Output(); !strings.Contains(out, "echo handled POST /things") {
		t.Errorf("Output() lacks the function's log line:\n%s", out)
	}
}

func TestInvokeFailures(t *testing.T) {
	emulator := Run(t, echoPkg, nil)

	tests := []struct {
		fail       string
		wantStatus int
		wantType   string
		wantMsg    string
	}{
		{fail: "error", wantStatus: 200, wantType: "errorString", wantMsg: "echo asked to fail"},
		{fail: "panic", wantStatus: 502, wantType: "string", wantMsg: "echo asked to panic"},
		{fail: "exit", wantStatus: 502, wantType: "Runtime.ExitError", wantMsg: "exit status 3"},
	}
	for _, tt := range tests {
		t.Run(tt.fail, func(t *testing.T) {
			req := request("POST /fail", "POST", "/fail", "", nil, map[string]string{"fail": tt.fail})
			_, err := emulator.InvokeRequest(t.Context(), req)

			var ferr *FunctionError
			if !errors.As(err, &ferr) {
				t.Fatalf("err = %v, want a *FunctionError", err)
			}
			if ferr.Status != tt.wantStatus || ferr.Type != tt.wantType ||
				!strings.Contains(ferr.Message, tt.wantMsg) {
				t.Errorf("FunctionError = %+v, want status %d, type %q, message with %q",
					ferr, tt.wantStatus, tt.wantType, tt.wantMsg)
			}

			// The emulator starts a fresh runtime after a crash, as Lambda does.
			ok := request("GET /after", "GET", "/after", "", nil, nil)
			if _, err := emulator.InvokeRequest(t.Context(), ok); err != nil {
				t.Errorf("invoke after %s: %v", tt.fail, err)
			}
		})
	}
}

func TestInvokeHTTPRejects(t *testing.T) {
	emulator := Run(t, echoPkg, nil)

	tests := []struct {
		name          string
		event         string
		functionError bool
	}{
		{name: "event the handler cannot decode", event: `"hello"`, functionError: true},
		{name: "event with a wrong field type", event: `{"rawPath": 42}`, functionError: true},
		{
			name:  "response without a status code",
			event: `{"rawPath": "/x", "queryStringParameters": {"fail": "empty"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := emulator.InvokeHTTP(t.Context(), []byte(tt.event))
			if err == nil {
				t.Fatal("InvokeHTTP succeeded, want an error")
			}
			var ferr *FunctionError
			if got := errors.As(err, &ferr); got != tt.functionError {
				t.Errorf("err = %v; a *FunctionError: %v, want %v", err, got, tt.functionError)
			}
		})
	}
}

func TestFunctionError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header string
		body   string
		want   *FunctionError
	}{
		{name: "response", status: 200, body: `{"statusCode":200,"body":"{\"errorMessage\":1}"}`},
		{name: "non-object response", status: 200, body: `"text"`},
		{
			name: "returned error", status: 200,
			body: `{"errorMessage":"boom","errorType":"errorString"}`,
			want: &FunctionError{Status: 200, Type: "errorString", Message: "boom"},
		},
		{
			name: "empty error message", status: 200, body: `{"errorMessage":""}`,
			want: &FunctionError{Status: 200},
		},
		{
			name: "flagged by header", status: 200, header: "Unhandled", body: `{}`,
			want: &FunctionError{Status: 200, Message: `{}`},
		},
		{
			name: "crash", status: 502, body: `{"errorType":"Runtime.ExitError","errorMessage":"x"}`,
			want: &FunctionError{Status: 502, Type: "Runtime.ExitError", Message: "x"},
		},
		{
			name: "emulator failure", status: 500, body: `internal`,
			want: &FunctionError{Status: 500, Message: "internal"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
			if tt.header != "" {
				resp.Header.Set("X-Amz-Function-Error", tt.header)
			}

			got := functionError(resp, []byte(tt.body))
			switch {
			case tt.want == nil && got != nil:
				t.Errorf("functionError = %+v, want nil", got)
			case tt.want != nil && (got == nil || *got != *tt.want):
				t.Errorf("functionError = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStartFailures(t *testing.T) {
	dir := t.TempDir()
	notExecutable := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(notExecutable, []byte("not a program"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		bootstrap string
	}{
		{name: "missing file", bootstrap: filepath.Join(dir, "absent", "bootstrap")},
		{name: "a folder", bootstrap: dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emulator, err := Start(t.Context(), tt.bootstrap, nil)
			if err == nil {
				_ = emulator.Stop()
				t.Fatal("Start succeeded, want an error")
			}
		})
	}

	// A bootstrap that cannot run fails its first invocation, not Start:
	// the emulator starts the runtime on demand, as Lambda does.
	t.Run("not executable", func(t *testing.T) {
		emulator, err := Start(t.Context(), notExecutable, nil)
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		defer emulator.Stop()

		_, err = emulator.Invoke(t.Context(), []byte(`{}`))
		var ferr *FunctionError
		if !errors.As(err, &ferr) {
			t.Errorf("Invoke err = %v, want a *FunctionError", err)
		}
	})
}

func TestBuildFailure(t *testing.T) {
	_, err := Build(t.Context(), "./shared/lambdatest/testdata/absent", t.TempDir())
	if err == nil {
		t.Fatal("Build of a missing package succeeded")
	}
}

func TestStopEndsEmulatorAndFunction(t *testing.T) {
	bootstrap, err := Build(t.Context(), echoPkg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	emulator, err := Start(t.Context(), bootstrap, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A handler stuck in its work does not notice the emulator going away;
	// Stop has to end it all the same.
	hang := request("GET /x", "GET", "/x", "", nil, map[string]string{"fail": "hang"})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := emulator.InvokeRequest(ctx, hang); err == nil {
		t.Fatal("invoke of a hanging handler succeeded")
	}
	if pids := processesRunning(t, bootstrap); len(pids) == 0 {
		t.Fatal("bootstrap not seen running before Stop")
	}

	if err := emulator.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := emulator.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}

	addr := strings.TrimPrefix(strings.TrimSuffix(emulator.URL(), invokePath), "http://")
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Stop", addr)
	}
	if pids := processesRunning(t, bootstrap); len(pids) > 0 {
		t.Errorf("bootstrap still running after Stop: pids %v", pids)
	}

	ok := request("GET /x", "GET", "/x", "", nil, nil)
	if _, err := emulator.InvokeRequest(t.Context(), ok); err == nil {
		t.Error("invoke after Stop succeeded")
	}
}

func TestWithDefaults(t *testing.T) {
	got := withDefaults([]string{"PATH=/x", "A=1"}, "PATH=/usr/bin", "B=2")
	want := []string{"PATH=/x", "A=1", "B=2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("withDefaults = %v, want %v", got, want)
	}
}

// processesRunning lists the pids whose executable is path, from /proc.
func processesRunning(t *testing.T, path string) []string {
	t.Helper()

	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to look for processes: %v", err)
	}
	var pids []string
	for _, entry := range entries {
		exe, err := os.Readlink(filepath.Join("/proc", entry.Name(), "exe"))
		if err == nil && exe == path {
			pids = append(pids, entry.Name())
		}
	}
	return pids
}

func request(
	routeKey, method, path, body string, pathParams, query map[string]string,
) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               path,
		Headers:               map[string]string{"content-type": "application/json"},
		QueryStringParameters: query,
		PathParameters:        pathParams,
		Body:                  body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-1",
			Stage:     "$default",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
}
