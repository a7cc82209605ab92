package atlas_test

// These tests hold four things to each other: the SAM template, the folders
// under functions/, the routes the handlers serve (httpapi.Routes, which the
// dev server uses too) and the sample events in events/.

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/aws/aws-lambda-go/events"
	"gopkg.in/yaml.v3"

	"github.com/atlas-network-tokens/atlas/shared/httpapi"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/webhook"
)

// functionsWithoutRoute names the functions that no HTTP route invokes
// (stream, queue or schedule triggers). They still need a Function resource.
var functionsWithoutRoute = []string{"dispatcher", "relay", "sweeper"}

// eventPlaceholders are the ids the sample events use; see events/README.md.
var eventPlaceholders = []string{
	"sk_example", "cs_example", "sess_example", "tok_card_example", "nt_example", "cus_example",
}

// templateFunction is one AWS::Serverless::Function of template.yaml.
type templateFunction struct {
	LogicalID   string
	BuildMethod string
	Properties  functionProperties
	Routes      []string // "METHOD /path", one per HttpApi event
}

type functionProperties struct {
	LoggingConfig struct {
		LogGroup yaml.Node `yaml:"LogGroup"`
	} `yaml:"LoggingConfig"`
	Policies []yaml.Node `yaml:"Policies"`
	Events   map[string]struct {
		Type       string    `yaml:"Type"`
		Properties yaml.Node `yaml:"Properties"`
	} `yaml:"Events"`
}

type httpAPIEvent struct {
	APIID                yaml.Node `yaml:"ApiId"`
	Method               string    `yaml:"Method"`
	Path                 string    `yaml:"Path"`
	PayloadFormatVersion string    `yaml:"PayloadFormatVersion"`
}

type templateResource struct {
	Type     string `yaml:"Type"`
	Metadata struct {
		BuildMethod string `yaml:"BuildMethod"`
	} `yaml:"Metadata"`
	Properties yaml.Node `yaml:"Properties"`
}

type samTemplate struct {
	Globals struct {
		Function struct {
			Environment struct {
				Variables map[string]yaml.Node `yaml:"Variables"`
			} `yaml:"Environment"`
		} `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]templateResource `yaml:"Resources"`
}

func readTemplate(t *testing.T) samTemplate {
	t.Helper()
	raw, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tmpl samTemplate
	if err := yaml.Unmarshal(raw, &tmpl); err != nil {
		t.Fatalf("parsing template.yaml: %v", err)
	}
	return tmpl
}

// templateFunctions returns the template's functions by folder name.
func templateFunctions(t *testing.T, tmpl samTemplate) map[string]templateFunction {
	t.Helper()
	functions := map[string]templateFunction{}
	for id, res := range tmpl.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		folder, ok := folderOf(id)
		if !ok {
			t.Errorf("function %s: logical id must be <CamelCaseFolder>Function", id)
			continue
		}

		fn := templateFunction{LogicalID: id, BuildMethod: res.Metadata.BuildMethod}
		if err := res.Properties.Decode(&fn.Properties); err != nil {
			t.Fatalf("function %s: decoding properties: %v", id, err)
		}
		for name, ev := range fn.Properties.Events {
			if ev.Type != "HttpApi" {
				continue
			}
			var api httpAPIEvent
			if err := ev.Properties.Decode(&api); err != nil {
				t.Fatalf("function %s event %s: %v", id, name, err)
			}
			if api.APIID.Tag != "!Ref" || api.APIID.Value != "HttpApi" {
				t.Errorf("function %s event %s: ApiId must be !Ref HttpApi", id, name)
			}
			if api.PayloadFormatVersion != "2.0" {
				t.Errorf("function %s event %s: PayloadFormatVersion %q, want \"2.0\"",
					id, name, api.PayloadFormatVersion)
			}
			fn.Routes = append(fn.Routes, api.Method+" "+api.Path)
		}
		functions[folder] = fn
	}
	return functions
}

// folderOf maps a logical id to its folder under functions/:
// WebhookEndpointsFunction is functions/webhook-endpoints. `make
// build-<LogicalId>` does the same mapping.
func folderOf(logicalID string) (string, bool) {
	name, ok := strings.CutSuffix(logicalID, "Function")
	if !ok || name == "" || !unicode.IsUpper(rune(name[0])) {
		return "", false
	}
	var folder strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 {
			folder.WriteByte('-')
		}
		folder.WriteRune(unicode.ToLower(r))
	}
	return folder.String(), true
}

// functionFolders lists the folders under functions/ that hold a main.go.
func functionFolders(t *testing.T) []string {
	t.Helper()
	mains, err := filepath.Glob("functions/*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, m := range mains {
		folders = append(folders, filepath.Base(filepath.Dir(m)))
	}
	return folders
}

func TestFolderOf(t *testing.T) {
	tests := []struct {
		id     string
		want   string
		wantOK bool
	}{
		{id: "SessionFunction", want: "session", wantOK: true},
		{id: "WebhookEndpointsFunction", want: "webhook-endpoints", wantOK: true},
		{id: "Function"},
		{id: "Session"},
		{id: "sessionFunction"},
	}
	for _, tt := range tests {
		got, ok := folderOf(tt.id)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("folderOf(%q) = %q, %v; want %q, %v", tt.id, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestTemplateHasAFunctionPerFolder(t *testing.T) {
	functions := templateFunctions(t, readTemplate(t))
	folders := functionFolders(t)
	if len(folders) == 0 {
		t.Fatal("no functions/*/main.go found")
	}

	for _, folder := range folders {
		if _, ok := functions[folder]; !ok {
			t.Errorf("functions/%s has no Function resource in template.yaml", folder)
		}
	}
	for folder, fn := range functions {
		if !slices.Contains(folders, folder) {
			t.Errorf("template function %s has no functions/%s/main.go", fn.LogicalID, folder)
		}
	}
}

func TestTemplateFunctionsBuildAndLog(t *testing.T) {
	tmpl := readTemplate(t)
	for folder, fn := range templateFunctions(t, tmpl) {
		if fn.BuildMethod != "makefile" {
			t.Errorf("%s: Metadata.BuildMethod %q, want makefile (see Makefile build-%%Function)",
				fn.LogicalID, fn.BuildMethod)
		}

		group := fn.Properties.LoggingConfig.LogGroup
		wantGroup := strings.TrimSuffix(fn.LogicalID, "Function") + "LogGroup"
		if group.Tag != "!Ref" || group.Value != wantGroup {
			t.Errorf("%s (functions/%s): LoggingConfig.LogGroup must be !Ref %s",
				fn.LogicalID, folder, wantGroup)
			continue
		}
		res, ok := tmpl.Resources[wantGroup]
		if !ok || res.Type != "AWS::Logs::LogGroup" {
			t.Errorf("%s: no AWS::Logs::LogGroup %s", fn.LogicalID, wantGroup)
			continue
		}
		var props struct {
			RetentionInDays yaml.Node `yaml:"RetentionInDays"`
		}
		if err := res.Properties.Decode(&props); err != nil || props.RetentionInDays.IsZero() {
			t.Errorf("%s: no RetentionInDays (%v)", wantGroup, err)
		}
	}
}

func TestTemplateRoutesMatchHandlers(t *testing.T) {
	var served []string
	for _, r := range httpapi.New(nil, nil).Routes() {
		served = append(served, r.Method+" "+r.Path)
	}

	var routed []string
	for folder, fn := range templateFunctions(t, readTemplate(t)) {
		exempt := slices.Contains(functionsWithoutRoute, folder)
		switch {
		case exempt && len(fn.Routes) > 0:
			t.Errorf("%s has routes %v but is listed in functionsWithoutRoute", fn.LogicalID, fn.Routes)
		case !exempt && len(fn.Routes) == 0:
			t.Errorf("%s has no HttpApi route; list it in functionsWithoutRoute if it needs none",
				fn.LogicalID)
		}
		routed = append(routed, fn.Routes...)
	}

	for _, route := range served {
		if !slices.Contains(routed, route) {
			t.Errorf("httpapi serves %s, but no function in template.yaml has that route", route)
		}
	}
	for _, route := range routed {
		if !slices.Contains(served, route) {
			t.Errorf("template.yaml routes %s, but httpapi.Routes has no handler for it", route)
		}
	}
}

func TestTemplateEnvironment(t *testing.T) {
	vars := readTemplate(t).Globals.Function.Environment.Variables
	for _, name := range []string{
		"ATLAS_TABLE_NAME", "ATLAS_KMS_KEY_ID", "ATLAS_EVENT_BUS_NAME", "ATLAS_STAGE", "ATLAS_LOG_LEVEL",
	} {
		if _, ok := vars[name]; !ok {
			t.Errorf("Globals.Function.Environment lacks %s", name)
		}
	}
}

// TestTemplatePoliciesAreNarrow holds every function's policy to named
// actions on the service's own resources: no wildcard action, no "*"
// resource, no managed policy.
func TestTemplatePoliciesAreNarrow(t *testing.T) {
	allowedResources := []string{"Table.Arn", "Key.Arn", "EventBus.Arn", "${Table.Arn}/index/gsi1",
		"Table.StreamArn", "RelayFailureQueue.Arn"}

	for _, fn := range templateFunctions(t, readTemplate(t)) {
		if len(fn.Properties.Policies) == 0 {
			t.Errorf("%s has no policy", fn.LogicalID)
		}
		for _, policy := range fn.Properties.Policies {
			var doc struct {
				Statement []struct {
					Effect   string    `yaml:"Effect"`
					Action   yaml.Node `yaml:"Action"`
					Resource yaml.Node `yaml:"Resource"`
				} `yaml:"Statement"`
			}
			if policy.Kind != yaml.MappingNode || policy.Decode(&doc) != nil || len(doc.Statement) == 0 {
				t.Errorf("%s: policy at line %d is not an inline policy document", fn.LogicalID, policy.Line)
				continue
			}
			for _, st := range doc.Statement {
				for _, action := range scalars(st.Action) {
					service, name, ok := strings.Cut(action.Value, ":")
					if !ok || service == "" || name == "" || strings.Contains(action.Value, "*") {
						t.Errorf("%s: action %q is not one named action", fn.LogicalID, action.Value)
					}
				}
				for _, res := range scalars(st.Resource) {
					if !slices.Contains(allowedResources, res.Value) {
						t.Errorf("%s: resource %s %q is not one of the service's own resources",
							fn.LogicalID, res.Tag, res.Value)
					}
				}
			}
		}
	}
}

// scalars flattens a scalar or a sequence of scalars.
func scalars(n yaml.Node) []yaml.Node {
	if n.Kind == yaml.SequenceNode {
		var out []yaml.Node
		for _, c := range n.Content {
			out = append(out, *c)
		}
		return out
	}
	return []yaml.Node{n}
}

func TestEventsMatchRoutes(t *testing.T) {
	functions := templateFunctions(t, readTemplate(t))

	files, err := filepath.Glob("events/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		folder := strings.TrimSuffix(filepath.Base(file), ".json")
		if _, ok := functions[folder]; !ok {
			t.Errorf("%s: no function %s in template.yaml", file, folder)
		}
	}

	for folder, fn := range functions {
		if len(fn.Routes) == 0 {
			continue
		}
		t.Run(folder, func(t *testing.T) {
			ev := readEvent(t, filepath.Join("events", folder+".json"))
			if !slices.Contains(fn.Routes, ev.RouteKey) {
				t.Fatalf("routeKey %q is not one of %s's routes %v", ev.RouteKey, fn.LogicalID, fn.Routes)
			}
			checkEvent(t, ev, ev.RouteKey)
		})
	}
}

func readEvent(t *testing.T, path string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("every route needs a sample event: %v", err)
	}
	var ev events.APIGatewayV2HTTPRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("%s is not a payload 2.0 event: %v", path, err)
	}
	return ev
}

func checkEvent(t *testing.T, ev events.APIGatewayV2HTTPRequest, route string) {
	t.Helper()
	method, pattern, _ := strings.Cut(route, " ")
	if ev.Version != "2.0" || ev.RouteKey != route || ev.RequestContext.RouteKey != route {
		t.Errorf("version %q, routeKey %q / %q; want 2.0 and %q",
			ev.Version, ev.RouteKey, ev.RequestContext.RouteKey, route)
	}
	if ev.RequestContext.HTTP.Method != method || ev.RequestContext.Stage != "$default" {
		t.Errorf("http.method %q, stage %q; want %s, $default",
			ev.RequestContext.HTTP.Method, ev.RequestContext.Stage, method)
	}
	if ev.RequestContext.RequestID == "" || ev.RequestContext.TimeEpoch == 0 {
		t.Error("requestContext needs requestId and timeEpoch")
	}

	wantPath := pattern
	for name, value := range ev.PathParameters {
		wantPath = strings.Replace(wantPath, "{"+name+"}", value, 1)
	}
	if ev.RawPath != wantPath || ev.RequestContext.HTTP.Path != wantPath {
		t.Errorf("rawPath %q, http.path %q; want %q", ev.RawPath, ev.RequestContext.HTTP.Path, wantPath)
	}

	query := url.Values{}
	for name, value := range ev.QueryStringParameters {
		query.Set(name, value)
	}
	if ev.RawQueryString != query.Encode() {
		t.Errorf("rawQueryString %q, want %q", ev.RawQueryString, query.Encode())
	}

	for name := range ev.Headers {
		if name != strings.ToLower(name) {
			t.Errorf("header %q: HTTP APIs deliver lowercase names", name)
		}
	}
	if strings.Contains(pattern, "/notifications/") {
		// Card networks authenticate by signature, not by a bearer key.
		if ev.Headers["atlas-network-signature"] == "" || ev.Headers["authorization"] != "" {
			t.Errorf("a network notification carries atlas-network-signature and no authorization")
		}
	} else {
		auth, ok := strings.CutPrefix(ev.Headers["authorization"], "Bearer ")
		if !ok || !slices.Contains(eventPlaceholders, auth) {
			t.Errorf("authorization %q, want Bearer and a placeholder", ev.Headers["authorization"])
		}
	}

	if ev.IsBase64Encoded {
		t.Error("isBase64Encoded: bodies are plain JSON text")
	}
	if (ev.Body != "") != (method == "POST") {
		t.Errorf("%s event with body %q", method, ev.Body)
	}
	if ev.Body != "" {
		var body map[string]any
		if err := json.Unmarshal([]byte(ev.Body), &body); err != nil {
			t.Errorf("body is not a JSON object: %v", err)
		}
		if ev.Headers["content-type"] != "application/json" {
			t.Errorf("content-type %q for a JSON body", ev.Headers["content-type"])
		}
	}
}

func TestEventPlaceholdersDoNotOverlap(t *testing.T) {
	// Tests replace the placeholders by plain text substitution.
	for _, a := range eventPlaceholders {
		for _, b := range eventPlaceholders {
			if a != b && strings.Contains(a, b) {
				t.Errorf("placeholder %q contains %q", a, b)
			}
		}
	}
}

func TestDispatcherTakesThePublishersEvents(t *testing.T) {
	fn, ok := templateFunctions(t, readTemplate(t))["dispatcher"]
	if !ok {
		t.Fatal("template.yaml has no DispatcherFunction")
	}

	var rules int
	for name, ev := range fn.Properties.Events {
		if ev.Type != "EventBridgeRule" {
			continue
		}
		rules++
		var rule struct {
			EventBusName yaml.Node `yaml:"EventBusName"`
			Pattern      struct {
				Source []string `yaml:"source"`
			} `yaml:"Pattern"`
		}
		if err := ev.Properties.Decode(&rule); err != nil {
			t.Fatalf("event %s: %v", name, err)
		}
		if rule.EventBusName.Tag != "!Ref" || rule.EventBusName.Value != "EventBus" {
			t.Errorf("event %s: EventBusName must be !Ref EventBus", name)
		}
		if !slices.Equal(rule.Pattern.Source, []string{publish.Source}) {
			t.Errorf("event %s: pattern source %v, want [%s] (publish.Source)",
				name, rule.Pattern.Source, publish.Source)
		}
	}
	if rules != 1 {
		t.Errorf("DispatcherFunction has %d EventBridge rules, want 1", rules)
	}
}

// TestDispatcherEvent holds events/dispatcher.json to what the bus rule
// delivers and the dispatcher reads.
func TestDispatcherEvent(t *testing.T) {
	raw, err := os.ReadFile("events/dispatcher.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("events/dispatcher.json is not an EventBridge event: %v", err)
	}
	if _, err := webhook.FromEventBridge(ev); err != nil {
		t.Errorf("the dispatcher cannot read events/dispatcher.json: %v", err)
	}
}
