package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/logging"
)

// MaxBodyBytes is the largest request body the API reads; a larger one is
// refused with 413 before it is parsed.
const MaxBodyBytes = 16 << 10

// body returns the request body, decoding API Gateway's base64 form.
func body(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if len(req.Body) > base64.StdEncoding.EncodedLen(MaxBodyBytes) {
		return nil, errTooLarge
	}
	raw := []byte(req.Body)
	if req.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, fault.New(fault.ErrInvalid, "invalid_body", "The request body is not valid base64.")
		}
		raw = decoded
	}
	if len(raw) > MaxBodyBytes {
		return nil, errTooLarge
	}
	return raw, nil
}

var errTooLarge = fault.New(fault.ErrTooLarge, "request_too_large",
	"The request body is larger than 16384 bytes.")

// decodeStrict fills dst, a pointer to a struct whose fields are pointers
// tagged with json names, from a JSON object. It refuses what is not JSON,
// fields dst does not name, values of the wrong type, and fields tagged
// `required:"true"` that are missing, null or empty strings. The param of
// each error names the field as card[exp_month].
func decodeStrict(raw []byte, dst any) error {
	var top any
	if len(strings.TrimSpace(string(raw))) == 0 {
		return fault.New(fault.ErrInvalid, "invalid_json", "The request body must be a JSON object.")
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return fault.New(fault.ErrInvalid, "invalid_json", "The request body is not valid JSON.")
	}
	if _, ok := top.(map[string]any); !ok {
		return fault.New(fault.ErrInvalid, "invalid_json", "The request body must be a JSON object.")
	}
	if err := unknownFields(top, reflect.TypeOf(dst).Elem(), ""); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			param := paramName(typeErr.Field)
			// For a list Type is the element type; "expected" reads right for both.
			return fault.Param(fault.ErrInvalid, "invalid_type", param,
				"Wrong type for "+param+": expected "+describe(typeErr.Type)+".")
		}
		return fault.New(fault.ErrInvalid, "invalid_json", "The request body is not valid JSON.")
	}
	return missingFields(reflect.ValueOf(dst).Elem(), "")
}

// unknownFields walks a decoded JSON value against a struct type and reports
// the first object key the type does not name.
func unknownFields(v any, t reflect.Type, prefix string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil // a type mismatch; json.Unmarshal reports it
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		name := jsonName(t.Field(i))
		fields[name] = t.Field(i).Type
	}
	for k, child := range obj {
		ft, ok := fields[k]
		if !ok {
			param := joinParam(prefix, echoable(k))
			return fault.Param(fault.ErrInvalid, "unknown_parameter", param,
				"Unknown parameter: "+param+".")
		}
		if err := unknownFields(child, ft, joinParam(prefix, k)); err != nil {
			return err
		}
	}
	return nil
}

// missingFields reports the first required field that is nil or "".
func missingFields(v reflect.Value, prefix string) error {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		param := joinParam(prefix, jsonName(f))
		empty := fv.IsNil() || (fv.Elem().Kind() == reflect.String && fv.Elem().Len() == 0)
		if f.Tag.Get("required") == "true" && empty {
			return fault.Param(fault.ErrInvalid, "missing_parameter", param,
				"Missing required parameter: "+param+".")
		}
		if !fv.IsNil() && fv.Elem().Kind() == reflect.Struct {
			if err := missingFields(fv.Elem(), param); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxEchoedName bounds how much of a caller's unknown field name an error
// repeats back.
const maxEchoedName = 64

// echoable makes a caller-chosen name safe to put in an error body and a
// log line: card-number-shaped digits masked, length bounded.
func echoable(name string) string {
	name = logging.Scrub(name)
	if len(name) > maxEchoedName {
		name = name[:maxEchoedName] + "…"
	}
	return name
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

func joinParam(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "[" + name + "]"
}

// paramName turns encoding/json's dotted field path into card[exp_month].
func paramName(dotted string) string {
	parts := strings.Split(dotted, ".")
	out := parts[0]
	for _, p := range parts[1:] {
		out += "[" + p + "]"
	}
	return out
}

func describe(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return "a " + t.Kind().String()
	}
}
