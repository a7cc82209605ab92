package httpapi

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// wantFault checks err is a *fault.Error of this kind, code and param.
func wantFault(t *testing.T, err error, kind error, code, param string) *fault.Error {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *fault.Error", err)
	}
	if !errors.Is(err, kind) || fe.Code != code || fe.Param != param {
		t.Fatalf("got %v (kind %v), want %v %s param=%q", fe, fe.Kind, kind, code, param)
	}
	return fe
}

func TestDecodeStrictRefuses(t *testing.T) {
	const card = `"card":{"number":"4242424242424242","exp_month":1,"exp_year":2030}`
	cases := []struct {
		name, body  string
		code, param string
	}{
		{"empty", ``, "invalid_json", ""},
		{"whitespace", "  \n", "invalid_json", ""},
		{"not JSON", `{session_id}`, "invalid_json", ""},
		{"truncated", `{"session_id":"s"`, "invalid_json", ""},
		{"two values", `{} {}`, "invalid_json", ""},
		{"array", `[{"session_id":"s"}]`, "invalid_json", ""},
		{"number", `12`, "invalid_json", ""},
		{"null", `null`, "invalid_json", ""},
		{"unknown top-level", `{"session_id":"s",` + card + `,"x":1}`, "unknown_parameter", "x"},
		{"unknown nested", `{"session_id":"s","card":{"number":"1","exp_month":1,"exp_year":1,"cvc":"1"}}`,
			"unknown_parameter", "card[cvc]"},
		{"unknown inside a wrong type", `{"session_id":"s","card":"x","y":1}`, "unknown_parameter", "y"},
		{"session_id number", `{"session_id":1,` + card + `}`, "invalid_type", "session_id"},
		{"session_id bool", `{"session_id":true,` + card + `}`, "invalid_type", "session_id"},
		{"card string", `{"session_id":"s","card":"4242"}`, "invalid_type", "card"},
		{"card number", `{"session_id":"s","card":4242}`, "invalid_type", "card"},
		{"exp_month string", `{"session_id":"s","card":{"number":"1","exp_month":"1","exp_year":1}}`,
			"invalid_type", "card[exp_month]"},
		{"exp_year float", `{"session_id":"s","card":{"number":"1","exp_month":1,"exp_year":20.5}}`,
			"invalid_type", "card[exp_year]"},
		{"number number", `{"session_id":"s","card":{"number":4242,"exp_month":1,"exp_year":1}}`,
			"invalid_type", "card[number]"},
		{"missing session_id", `{` + card + `}`, "missing_parameter", "session_id"},
		{"null session_id", `{"session_id":null,` + card + `}`, "missing_parameter", "session_id"},
		{"empty session_id", `{"session_id":"",` + card + `}`, "missing_parameter", "session_id"},
		{"missing card", `{"session_id":"s"}`, "missing_parameter", "card"},
		{"empty card", `{"session_id":"s","card":{}}`, "missing_parameter", "card[number]"},
		{"missing exp_year", `{"session_id":"s","card":{"number":"1","exp_month":1}}`,
			"missing_parameter", "card[exp_year]"},
		{"null exp_month", `{"session_id":"s","card":{"number":"1","exp_month":null,"exp_year":1}}`,
			"missing_parameter", "card[exp_month]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var dst createCardTokenRequest
			wantFault(t, decodeStrict([]byte(c.body), &dst), fault.ErrInvalid, c.code, c.param)
		})
	}
}

func TestDecodeStrictAccepts(t *testing.T) {
	var card createCardTokenRequest
	body := `{"session_id":"sess_1","card":{"number":"4242424242424242","exp_month":7,` +
		`"exp_year":2031,"cardholder_name":"Ada"}}`
	if err := decodeStrict([]byte(body), &card); err != nil {
		t.Fatal(err)
	}
	in := card.card()
	if *card.SessionID != "sess_1" || in.Number != "4242424242424242" || in.ExpMonth != 7 ||
		in.ExpYear != 2031 || in.CardholderName != "Ada" {
		t.Errorf("decoded %+v", in)
	}

	var nt createNetworkTokenRequest
	if err := decodeStrict([]byte(`{"session_id":"s","token_id":"t"}`), &nt); err != nil {
		t.Fatal(err)
	}
	if nt.RequestCryptogram != nil || *nt.TokenID != "t" {
		t.Errorf("request_cryptogram should stay absent: %+v", nt)
	}

	var sess createSessionRequest
	for _, body := range []string{`{}`, `{"customer_id":null}`, `{"customer_id":"c"}`} {
		if err := decodeStrict([]byte(body), &sess); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}

// TestDecodeStrictDoesNotEchoCardNumbers: an unknown field's name is put in
// the error's param and message, which go back in the response body. A card
// number sent as a field name must not come back.
func TestDecodeStrictDoesNotEchoCardNumbers(t *testing.T) {
	const pan = "4242424242424242"
	for _, body := range []string{
		`{"` + pan + `":1}`,
		`{"session_id":"s","card":{"` + pan + `":"12/30"}}`,
		`{"card ` + pan + `":1}`,
	} {
		var dst createCardTokenRequest
		err := decodeStrict([]byte(body), &dst)
		var fe *fault.Error
		if !errors.As(err, &fe) || !errors.Is(err, fault.ErrInvalid) {
			t.Fatalf("%s: %v, want a 400", body, err)
		}
		if strings.Contains(fe.Param, pan) || strings.Contains(fe.Message, pan) {
			t.Errorf("%s: the error echoes the card number: param %q message %q", body, fe.Param, fe.Message)
		}
	}
}

func TestBodyLimits(t *testing.T) {
	exact := strings.Repeat("a", MaxBodyBytes)
	cases := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		kind   error
		code   string
		length int
	}{
		{"plain at the limit", events.APIGatewayV2HTTPRequest{Body: exact}, nil, "", MaxBodyBytes},
		{"plain over the limit", events.APIGatewayV2HTTPRequest{Body: exact + "a"},
			fault.ErrTooLarge, "request_too_large", 0},
		{"base64 at the limit", events.APIGatewayV2HTTPRequest{
			Body: base64.StdEncoding.EncodeToString([]byte(exact)), IsBase64Encoded: true}, nil, "", MaxBodyBytes},
		{"base64 over the limit", events.APIGatewayV2HTTPRequest{
			Body: base64.StdEncoding.EncodeToString([]byte(exact + "a")), IsBase64Encoded: true},
			fault.ErrTooLarge, "request_too_large", 0},
		{"base64 far over the limit", events.APIGatewayV2HTTPRequest{
			Body: strings.Repeat("QUFB", MaxBodyBytes), IsBase64Encoded: true},
			fault.ErrTooLarge, "request_too_large", 0},
		{"bad base64", events.APIGatewayV2HTTPRequest{Body: "{not base64}", IsBase64Encoded: true},
			fault.ErrInvalid, "invalid_body", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, err := body(c.req)
			if c.kind == nil {
				if err != nil || len(raw) != c.length {
					t.Fatalf("got %d bytes, %v; want %d bytes", len(raw), err, c.length)
				}
				return
			}
			wantFault(t, err, c.kind, c.code, "")
		})
	}
}

// TestUnknownQueryParameterIsNotEchoed: the same for a query parameter's
// name on GET and DELETE.
func TestUnknownQueryParameterIsNotEchoed(t *testing.T) {
	const pan = "4242424242424242"
	h := &Handlers{}
	for _, name := range []string{pan, "pan " + pan} {
		req := events.APIGatewayV2HTTPRequest{
			Headers:               map[string]string{"authorization": "Bearer cs_" + strings.Repeat("a", 64)},
			QueryStringParameters: map[string]string{name: "1"},
		}
		_, err := h.sessionFromQuery(t.Context(), call{req: req, requestID: "r"})
		var fe *fault.Error
		if !errors.As(err, &fe) || !errors.Is(err, fault.ErrInvalid) {
			t.Fatalf("%q: %v, want a 400", name, err)
		}
		if strings.Contains(fe.Param, pan) || strings.Contains(fe.Message, pan) {
			t.Errorf("%q: the error echoes the card number: param %q message %q", name, fe.Param, fe.Message)
		}
	}
}
