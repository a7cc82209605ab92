// Package eventschema checks events against the JSON Schemas that document
// them (schemas/events/<type>.json at the top of the repository, draft
// 2020-12). Tests hold every event the service emits to them, so the files
// consumers read are the contract the code keeps.
//
// Errors name where an event breaks its schema and which keyword it fails,
// never the offending value, so a failure is safe to log even when the value
// is something that must not appear in an event, such as a card number.
package eventschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/atlas-network-tokens/atlas/schemas"
	"github.com/atlas-network-tokens/atlas/shared/publish"
)

// dir is the folder of schemas.Events that holds one file per event type.
const dir = "events"

// Validator holds the compiled schema of every event type.
type Validator struct {
	byType map[publish.Type]*jsonschema.Schema
}

// Load compiles the embedded schemas. Each file must be named for a known
// event type and compile as draft 2020-12; "format" is asserted, so
// createdAt must be a real date-time. It never fetches anything: a schema
// that refers outside its own file fails to compile.
func Load() (*Validator, error) {
	return LoadFS(schemas.Events)
}

// LoadFS is Load for schemas read from fsys, laid out as schemas.Events is.
func LoadFS(fsys fs.FS) (*Validator, error) {
	files, err := fs.Glob(fsys, dir+"/*.json")
	if err != nil {
		return nil, fmt.Errorf("listing schemas: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})

	v := &Validator{byType: make(map[publish.Type]*jsonschema.Schema, len(files))}
	for _, file := range files {
		t := publish.Type(strings.TrimSuffix(path.Base(file), ".json"))
		if !t.Known() {
			return nil, fmt.Errorf("schema %s: %q is not an event type", file, t)
		}
		sch, err := compile(c, fsys, file)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", file, err)
		}
		v.byType[t] = sch
	}
	return v, nil
}

func compile(c *jsonschema.Compiler, fsys fs.FS, file string) (*jsonschema.Schema, error) {
	body, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	url := "file:///" + file
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("adding: %w", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compiling: %w", err)
	}
	return sch, nil
}

// noLoader refuses every URL the compiler was not given, so that compiling
// never reaches a file system or network outside the embedded schemas.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not embedded", url)
}

// Types returns the event types that have a schema, sorted.
func (v *Validator) Types() []publish.Type {
	types := make([]publish.Type, 0, len(v.byType))
	for t := range v.byType {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// ErrUnknownType means an event names no type that has a schema.
var ErrUnknownType = errors.New("event type has no schema")

// Validate checks an event as consumers receive it (its JSON) against the
// schema of the type it names. It returns an *Error when the event breaks
// the schema, an error wrapping ErrUnknownType when its type has no schema,
// and another error when body is not a JSON object.
func (v *Validator) Validate(body []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("event is not JSON: %w", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return errors.New("event is not a JSON object")
	}
	name, _ := obj["type"].(string)
	sch, ok := v.byType[publish.Type(name)]
	if !ok {
		return ErrUnknownType
	}

	err = sch.Validate(doc)
	var verr *jsonschema.ValidationError
	if errors.As(err, &verr) {
		return &Error{Type: publish.Type(name), Violations: violations(verr, nil)}
	}
	return err
}

// ValidateEvent is Validate for an event value, encoded as it is published.
func (v *Validator) ValidateEvent(e publish.Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}
	return v.Validate(body)
}

// Violation is one way an event breaks its schema. It holds nothing taken
// from the event's values.
type Violation struct {
	// At is a JSON pointer to the offending part of the event: "/data" for
	// the data object, "" for the whole event.
	At string
	// Keyword is the schema keyword that failed: "required", "pattern",
	// "additionalProperties", "const", "format", …
	Keyword string
	// Missing names the absent properties when Keyword is "required".
	Missing []string
}

func (v Violation) String() string {
	at := v.At
	if at == "" {
		at = "the event"
	}
	s := "at " + at + ": " + v.Keyword
	if len(v.Missing) > 0 {
		s += " (missing " + strings.Join(v.Missing, ", ") + ")"
	}
	return s
}

// Error reports that an event breaks the schema of its type.
type Error struct {
	Type       publish.Type
	Violations []Violation
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return fmt.Sprintf("%s event breaks its schema: %s", e.Type, strings.Join(parts, "; "))
}

// Has reports whether the event fails keyword at the JSON pointer at.
func (e *Error) Has(at, keyword string) bool {
	return slices.ContainsFunc(e.Violations, func(v Violation) bool {
		return v.At == at && v.Keyword == keyword
	})
}

// violations flattens a validation error into its leaves, the failures that
// caused the others.
func violations(e *jsonschema.ValidationError, out []Violation) []Violation {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			out = violations(c, out)
		}
		return out
	}
	v := Violation{
		At:      pointer(e.InstanceLocation),
		Keyword: strings.Join(e.ErrorKind.KeywordPath(), "/"),
	}
	if req, ok := e.ErrorKind.(*kind.Required); ok {
		v.Missing = slices.Clone(req.Missing)
	}
	return append(out, v)
}

// pointer writes a location as a JSON pointer (RFC 6901).
func pointer(tokens []string) string {
	var b strings.Builder
	escape := strings.NewReplacer("~", "~0", "/", "~1")
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escape.Replace(t))
	}
	return b.String()
}
