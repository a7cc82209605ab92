package eventschema_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/atlas-network-tokens/atlas/schemas"
	"github.com/atlas-network-tokens/atlas/shared/eventschema"
	"github.com/atlas-network-tokens/atlas/shared/publish"
)

// allTypes is every event type the service publishes.
var allTypes = []publish.Type{
	publish.NetworkTokenCreated, publish.NetworkTokenDeleted, publish.NetworkTokenResumed,
	publish.NetworkTokenSuspended, publish.NetworkTokenUpdated,
}

func load(t *testing.T) *eventschema.Validator {
	t.Helper()
	v, err := eventschema.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return v
}

func TestEveryTypeHasASchema(t *testing.T) {
	got := load(t).Types()
	want := slices.Clone(allTypes)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("schemas for %v, want %v", got, want)
	}
}

// schemaFile reads one schema file as a generic JSON value.
func schemaFile(t *testing.T, typ publish.Type) map[string]any {
	t.Helper()
	body, err := fs.ReadFile(schemas.Events, "events/"+string(typ)+".json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	return doc
}

// The files are written by hand, each standing alone for consumers; the
// parts they share must not drift apart.
func TestSchemasAgree(t *testing.T) {
	first := schemaFile(t, allTypes[0])
	shared := func(doc map[string]any) map[string]any {
		props := doc["properties"].(map[string]any)
		return map[string]any{
			"$schema": doc["$schema"], "$defs": doc["$defs"], "required": doc["required"],
			"id": props["id"], "createdAt": props["createdAt"], "merchantId": props["merchantId"],
		}
	}
	for _, typ := range allTypes {
		doc := schemaFile(t, typ)
		if !reflect.DeepEqual(shared(doc), shared(first)) {
			t.Errorf("%s: envelope or $defs differ from %s's", typ, allTypes[0])
		}
		if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema %v", typ, doc["$schema"])
		}
		props := doc["properties"].(map[string]any)
		if c := props["type"].(map[string]any)["const"]; c != string(typ) {
			t.Errorf("%s: type const %v", typ, c)
		}
		data := props["data"].(map[string]any)
		if doc["additionalProperties"] != false || data["additionalProperties"] != false {
			t.Errorf("%s: event and data must not allow additional properties", typ)
		}
	}
}

// example returns a fresh copy of a schema's first example.
func example(t *testing.T, typ publish.Type) map[string]any {
	t.Helper()
	examples, _ := schemaFile(t, typ)["examples"].([]any)
	if len(examples) == 0 {
		t.Fatalf("%s: no example", typ)
	}
	return examples[0].(map[string]any)
}

func validate(t *testing.T, v *eventschema.Validator, ev map[string]any) error {
	t.Helper()
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return v.Validate(body)
}

func TestExamplesAreValid(t *testing.T) {
	v := load(t)
	for _, typ := range allTypes {
		if err := validate(t, v, example(t, typ)); err != nil {
			t.Errorf("%s example: %v", typ, err)
		}
	}
}

// An event built by publish.NewEvent from the data the service uses is
// valid, so the schemas accept what NewEvent emits.
func TestValidateEvent(t *testing.T) {
	v := load(t)
	data := example(t, publish.NetworkTokenUpdated)["data"]
	e, err := publish.NewEvent(publish.NetworkTokenUpdated, "mer_1", data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateEvent(e); err != nil {
		t.Fatalf("ValidateEvent: %v", err)
	}
	e.ID = "evt_123"
	var serr *eventschema.Error
	if err := v.ValidateEvent(e); !errors.As(err, &serr) || !serr.Has("/id", "pattern") {
		t.Fatalf("ValidateEvent with a bad id = %v", err)
	}
}

const pan = "4111111111111111"

func dataOf(ev map[string]any) map[string]any { return ev["data"].(map[string]any) }

// Every schema rejects these, whatever the type.
var rejectedByAll = []struct {
	name    string
	change  func(ev map[string]any)
	at      string
	keyword string
}{
	{"id without prefix", func(ev map[string]any) { ev["id"] = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
		"/id", "pattern"},
	{"id too short", func(ev map[string]any) { ev["id"] = "evt_abc123" }, "/id", "pattern"},
	{"id in upper case", func(ev map[string]any) { ev["id"] = "evt_0A1B2C3D4E5F60718293A4B5C6D7E8F9" },
		"/id", "pattern"},
	{"PAN-like data field", func(ev map[string]any) { dataOf(ev)["pan"] = pan },
		"/data", "additionalProperties"},
	{"PAN-like field at the top", func(ev map[string]any) { ev["cardNumber"] = pan },
		"", "additionalProperties"},
	{"PAN in networkTokenId", func(ev map[string]any) { dataOf(ev)["networkTokenId"] = pan },
		"/data/networkTokenId", "pattern"},
	{"no data", func(ev map[string]any) { delete(ev, "data") }, "", "required"},
	{"no merchant", func(ev map[string]any) { delete(ev, "merchantId") }, "", "required"},
	{"createdAt not a date", func(ev map[string]any) { ev["createdAt"] = "2025-13-40T25:61:00Z" },
		"/createdAt", "format"},
	{"createdAt not UTC", func(ev map[string]any) { ev["createdAt"] = "2025-01-21T13:10:00+01:00" },
		"/createdAt", "pattern"},
	{"unknown network", func(ev map[string]any) { dataOf(ev)["network"] = "discover" },
		"/data/network", "enum"},
	{"reason in lower case", func(ev map[string]any) { dataOf(ev)["reason"] = "status update" },
		"/data/reason", "pattern"},
}

func TestEverySchemaRejects(t *testing.T) {
	v := load(t)
	for _, typ := range allTypes {
		for _, tt := range rejectedByAll {
			if tt.name == "reason in lower case" && typ == publish.NetworkTokenCreated {
				continue // created carries no reason
			}
			t.Run(string(typ)+"/"+tt.name, func(t *testing.T) {
				ev := example(t, typ)
				tt.change(ev)
				wantViolation(t, validate(t, v, ev), tt.at, tt.keyword)
			})
		}
	}
}

func TestSchemasRejectPerType(t *testing.T) {
	tests := []struct {
		name    string
		typ     publish.Type
		change  func(ev map[string]any)
		at      string
		keyword string
	}{
		{"updated without previousExpiry", publish.NetworkTokenUpdated,
			func(ev map[string]any) { delete(dataOf(ev), "previousExpiry") }, "/data", "required"},
		{"updated without newExpiry", publish.NetworkTokenUpdated,
			func(ev map[string]any) { delete(dataOf(ev), "newExpiry") }, "/data", "required"},
		{"updated expiry month 13", publish.NetworkTokenUpdated,
			func(ev map[string]any) { dataOf(ev)["newExpiry"] = "13/2028" }, "/data/newExpiry", "pattern"},
		{"updated expiry with short year", publish.NetworkTokenUpdated,
			func(ev map[string]any) { dataOf(ev)["previousExpiry"] = "12/25" },
			"/data/previousExpiry", "pattern"},
		{"updated with no changes", publish.NetworkTokenUpdated,
			func(ev map[string]any) { dataOf(ev)["changes"] = []any{} }, "/data/changes", "minItems"},
		{"updated with an unknown change", publish.NetworkTokenUpdated,
			func(ev map[string]any) { dataOf(ev)["changes"] = []any{"card_pan"} },
			"/data/changes/0", "enum"},
		{"updated with a full token number", publish.NetworkTokenUpdated,
			func(ev map[string]any) { dataOf(ev)["tokenLast4"] = pan }, "/data/tokenLast4", "pattern"},
		{"created with a full card number", publish.NetworkTokenCreated,
			func(ev map[string]any) { dataOf(ev)["cardLast4"] = pan }, "/data/cardLast4", "pattern"},
		{"created with a bad card token id", publish.NetworkTokenCreated,
			func(ev map[string]any) { dataOf(ev)["cardTokenId"] = "tok_123" },
			"/data/cardTokenId", "pattern"},
		{"created as deleted", publish.NetworkTokenCreated,
			func(ev map[string]any) { dataOf(ev)["status"] = "deleted" }, "/data/status", "enum"},
		{"suspended without suspendedBy", publish.NetworkTokenSuspended,
			func(ev map[string]any) { delete(dataOf(ev), "suspendedBy") }, "/data", "required"},
		{"suspended by a stranger", publish.NetworkTokenSuspended,
			func(ev map[string]any) { dataOf(ev)["suspendedBy"] = "cardholder" },
			"/data/suspendedBy", "enum"},
		{"resumed naming a suspender", publish.NetworkTokenResumed,
			func(ev map[string]any) { dataOf(ev)["suspendedBy"] = "issuer" },
			"/data", "additionalProperties"},
		{"resumed but still suspended", publish.NetworkTokenResumed,
			func(ev map[string]any) { dataOf(ev)["status"] = "suspended" }, "/data/status", "const"},
		{"deleted but active", publish.NetworkTokenDeleted,
			func(ev map[string]any) { dataOf(ev)["status"] = "active" }, "/data/status", "const"},
		{"deleted with an updated event's data", publish.NetworkTokenDeleted,
			func(ev map[string]any) { ev["data"] = example(t, publish.NetworkTokenUpdated)["data"] },
			"/data", "required"},
	}
	v := load(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := example(t, tt.typ)
			tt.change(ev)
			wantViolation(t, validate(t, v, ev), tt.at, tt.keyword)
		})
	}
}

func wantViolation(t *testing.T, err error, at, keyword string) {
	t.Helper()
	var serr *eventschema.Error
	if !errors.As(err, &serr) {
		t.Fatalf("error = %v, want an *eventschema.Error", err)
	}
	if !serr.Has(at, keyword) {
		t.Fatalf("violations %v, want %s at %q", serr.Violations, keyword, at)
	}
	if strings.Contains(err.Error(), pan) {
		t.Fatalf("error %q shows the card number", err)
	}
}

func TestMissingNamesTheProperty(t *testing.T) {
	ev := example(t, publish.NetworkTokenUpdated)
	delete(dataOf(ev), "previousExpiry")
	err := validate(t, load(t), ev)
	want := "network_token.updated event breaks its schema: " +
		"at /data: required (missing previousExpiry)"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}

func TestValidateRejectsNonEvents(t *testing.T) {
	v := load(t)
	tests := []struct {
		name    string
		body    string
		unknown bool
	}{
		{"not JSON", `{"id":`, false},
		{"not an object", `["network_token.created"]`, false},
		{"no type", `{"id":"evt_0a1b2c3d4e5f60718293a4b5c6d7e8f9"}`, true},
		{"unknown type", `{"type":"network_token.frozen"}`, true},
		{"type not a string", `{"type":7}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Validate([]byte(tt.body))
			if err == nil {
				t.Fatal("accepted")
			}
			if errors.Is(err, eventschema.ErrUnknownType) != tt.unknown {
				t.Fatalf("error = %v; wraps ErrUnknownType: %t, want %t", err,
					errors.Is(err, eventschema.ErrUnknownType), tt.unknown)
			}
		})
	}
}

func TestLoadFSRejectsBadSchemas(t *testing.T) {
	good, err := fs.ReadFile(schemas.Events, "events/network_token.created.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		body string
		want string
	}{
		{"named for no type", "events/network_token.frozen.json", string(good),
			`"network_token.frozen" is not an event type`},
		{"not JSON", "events/network_token.created.json", `{"type":`, "decoding"},
		{"not a schema", "events/network_token.created.json", `{"type":"thing"}`, "compiling"},
		{"refers outside itself", "events/network_token.created.json",
			`{"$ref":"https://example.com/other.json"}`, "compiling"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{tt.file: {Data: []byte(tt.body)}}
			_, err := eventschema.LoadFS(fsys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadFS error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
