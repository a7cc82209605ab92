package functions_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/apitest"
)

// emulatorLinePrefixes start the lines the emulator itself writes around
// each invocation, as Lambda does in CloudWatch; everything else in a
// function's output is the function's own log.
var emulatorLinePrefixes = []string{"START RequestId: ", "END RequestId: ", "REPORT RequestId: "}

// checkNoLeaks looks for every secret the flow saw (test PANs, cryptograms,
// the client secret, merchant keys, the webhook signing secret) in each
// function's output, in every item of the table and on the bus.
func (f *flow) checkNoLeaks(t *testing.T) {
	if len(f.secrets) < 8 {
		t.Fatalf("only %d secrets collected: the flow did not run", len(f.secrets))
	}
	places := map[string]string{
		"the table": f.tableText(t), "the bus": strings.Join(f.busEvents, "\n"),
	}
	for name, fn := range f.fns {
		places["functions/"+name+" output"] = fn.Output()
	}
	for place, text := range places {
		for _, s := range f.secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains a secret: %s…", place, s[:6])
			}
		}
	}
}

// tableText is every attribute value of every item in the table, strings
// and bytes as they are stored, one item to a line.
func (f *flow) tableText(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	p := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(f.awsCfg),
		&dynamodb.ScanInput{TableName: aws.String(f.names.Table)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("scanning the table: %v", err)
		}
		for _, item := range page.Items {
			for name, v := range item {
				b.WriteString(name + "=")
				writeValue(&b, v)
			}
			b.WriteString("\n")
		}
	}
	if b.Len() == 0 {
		t.Fatal("the table is empty: nothing to look through")
	}
	return b.String()
}

func writeValue(b *strings.Builder, v types.AttributeValue) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		b.WriteString(v.Value)
	case *types.AttributeValueMemberN:
		b.WriteString(v.Value)
	case *types.AttributeValueMemberB:
		b.Write(v.Value)
	case *types.AttributeValueMemberSS:
		b.WriteString(strings.Join(v.Value, " "))
	case *types.AttributeValueMemberBS:
		for _, x := range v.Value {
			b.Write(x)
			b.WriteString(" ")
		}
	case *types.AttributeValueMemberL:
		for _, x := range v.Value {
			writeValue(b, x)
			b.WriteString(" ")
		}
	case *types.AttributeValueMemberM:
		for k, x := range v.Value {
			b.WriteString(k + "=")
			writeValue(b, x)
			b.WriteString(" ")
		}
	}
	b.WriteString(" ")
}

// checkJSONLogs checks that each function wrote only JSON log records
// (time, level, msg) besides the emulator's own lines, and that every HTTP
// function logged something, so the leak check had logs to look through.
func (f *flow) checkJSONLogs(t *testing.T) {
	for name, fn := range f.fns {
		records := 0
		for line := range strings.Lines(fn.Output()) {
			line = strings.TrimRight(line, "\r\n")
			if line == "" || slices.ContainsFunc(emulatorLinePrefixes, func(p string) bool {
				return strings.HasPrefix(line, p)
			}) {
				continue
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Errorf("functions/%s wrote a line that is not a JSON object: %q", name, line)
				continue
			}
			for _, key := range []string{"time", "level", "msg"} {
				if _, ok := rec[key]; !ok {
					t.Errorf("functions/%s: log record without %s: %s", name, key, line)
				}
			}
			records++
		}
		if records == 0 && slices.Contains(httpFunctions, name) {
			t.Errorf("functions/%s logged nothing at debug level", name)
		}
	}
}

// checkNetworkToken checks the fields every network token answer has.
func checkNetworkToken(t *testing.T, nt map[string]any, network, status string) {
	t.Helper()
	if nt == nil {
		t.Fatal("no network token in the answer")
	}
	apitest.WantMatch(t, nt, "networkTokenId", networkTokenPattern)
	apitest.WantField(t, nt, "network", network)
	apitest.WantField(t, nt, "status", status)
	apitest.WantMatch(t, nt, "tokenExpiryMonth", monthPattern)
	apitest.WantMatch(t, nt, "tokenExpiryYear", yearPattern)
}

// checkCryptogram checks a cryptogram's type and wire form: 28 Base64
// characters for 20 bytes.
func checkCryptogram(t *testing.T, body map[string]any, typ string) {
	t.Helper()
	apitest.WantField(t, body, "cryptogramType", typ)
	value := str(body, "cryptogram")
	raw, err := base64.StdEncoding.Strict().DecodeString(value)
	if len(value) != 28 || err != nil || len(raw) != 20 {
		t.Errorf("cryptogram %q is not 20 bytes in 28 Base64 characters (%v)", value, err)
	}
}

func noCryptogram(t *testing.T, body map[string]any) {
	t.Helper()
	for _, field := range []string{"cryptogram", "cryptogramType", "eci", "cryptogramExpiresAt"} {
		if _, ok := body[field]; ok {
			t.Errorf("answer has %s, want none: %v", field, body)
		}
	}
}

// checkErrorBody checks the one error shape:
// {"error":{"code","message","requestId","param"?}}.
func checkErrorBody(t *testing.T, body map[string]any) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok || len(body) != 1 {
		t.Errorf("error answer is not {\"error\":{…}}: %v", body)
		return
	}
	for _, field := range []string{"code", "message", "requestId"} {
		if s, _ := e[field].(string); s == "" {
			t.Errorf("error answer lacks %s: %v", field, body)
		}
	}
}

// wantError checks an error answer's code and param ("" for none).
func wantError(t *testing.T, body map[string]any, code, param string) {
	t.Helper()
	e, _ := body["error"].(map[string]any)
	gotParam, _ := e["param"].(string)
	if e["code"] != code || gotParam != param {
		t.Errorf("error %v, want code %q, param %q", e, code, param)
	}
}

func wantStatus(t *testing.T, got, want int, body map[string]any) {
	t.Helper()
	if got != want {
		t.Fatalf("status %d, want %d: %v", got, want, body)
	}
}

// str returns a string field, or "" when there is none.
func str(body map[string]any, field string) string {
	s, _ := body[field].(string)
	return s
}
