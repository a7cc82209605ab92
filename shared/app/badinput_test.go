package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-network-tokens/atlas/shared/httpapi"
)

// fixture is one merchant's session with a stored card and a live network
// token, plus a second session of the same merchant and customer.
type fixture struct {
	s, other session
	cardID   string
	ntID     string
}

func newFixture(h *harness) fixture {
	h.t.Helper()
	f := fixture{s: h.newSession(h.key, "cus_a"), other: h.newSession(h.key, "cus_a")}
	f.cardID = h.tokenize(f.s, "4242424242424242")
	f.ntID = h.networkToken(f.s, "5555555555554444")
	return f
}

// routeCase builds a request for one route that is valid apart from the
// credential and session id it is given.
type routeCase struct {
	name    string
	handler func(*httpapi.Handlers) httpapi.Handler
	build   func(f fixture, auth, sessionID string) events.APIGatewayV2HTTPRequest
}

func clientRoutes(year int) []routeCase {
	return []routeCase{
		{"POST /tokens", (*httpapi.Handlers).CreateCardToken,
			func(f fixture, auth, sid string) events.APIGatewayV2HTTPRequest {
				return request("POST", pathTokens, auth, "", nil, cardBody(sid, "4111111111111111", 1, year))
			}},
		{"POST /network-tokens", (*httpapi.Handlers).CreateNetworkToken,
			func(f fixture, auth, sid string) events.APIGatewayV2HTTPRequest {
				return request("POST", pathNetworkTokens, auth, "", nil, provisionBody(sid, f.cardID, true))
			}},
		{"POST /network-tokens/{id}/cryptogram", (*httpapi.Handlers).CreateCryptogram,
			func(f fixture, auth, sid string) events.APIGatewayV2HTTPRequest {
				return request("POST", ntPath(f.ntID)+"/cryptogram", auth, f.ntID, nil,
					`{"session_id":`+quote(sid)+`}`)
			}},
		{"GET /network-tokens/{id}", (*httpapi.Handlers).GetNetworkToken,
			func(f fixture, auth, sid string) events.APIGatewayV2HTTPRequest {
				return request("GET", ntPath(f.ntID), auth, f.ntID, map[string]string{"session_id": sid}, "")
			}},
		{"DELETE /network-tokens/{id}", (*httpapi.Handlers).DeleteNetworkToken,
			func(f fixture, auth, sid string) events.APIGatewayV2HTTPRequest {
				return request("DELETE", ntPath(f.ntID), auth, f.ntID, map[string]string{"session_id": sid}, "")
			}},
	}
}

// expectError checks a response is an error with this status, code and
// param ("" for none), and never a 5xx.
func expectError(t *testing.T, resp events.APIGatewayV2HTTPResponse,
	status int, code, param string) map[string]any {
	t.Helper()
	body, err := checkResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 500 {
		t.Fatalf("5xx for bad input: %d %s", resp.StatusCode, resp.Body)
	}
	gotCode, gotParam := errorOf(body)
	if resp.StatusCode != status || gotCode != code || gotParam != param {
		t.Errorf("got %d %s param=%q, want %d %s param=%q: %s",
			resp.StatusCode, gotCode, gotParam, status, code, param, resp.Body)
	}
	return body
}

// TestAuthMatrix sends every route every kind of bad credential.
func TestAuthMatrix(t *testing.T) {
	h := newHarness(t)
	f := newFixture(h)
	unknownSession := "sess_" + strings.Repeat("0", 32)
	unknownSecret := "Bearer cs_" + strings.Repeat("ab", 32)
	variants := []struct {
		name, auth, sessionID, code string
		param                       string
	}{
		{"no Authorization", "", f.s.id, "missing_authorization", ""},
		{"Basic scheme", "Basic x", f.s.id, "invalid_authorization", ""},
		{"Bearer without credential", "Bearer ", f.s.id, "invalid_authorization", ""},
		{"Bearer alone", "Bearer", f.s.id, "invalid_authorization", ""},
		{"secret key for client secret", "Bearer " + h.key, f.s.id, "invalid_authorization", ""},
		{"unknown session", f.s.auth, unknownSession, "invalid_session", "session_id"},
		{"malformed session id", f.s.auth, "sess_../../x", "invalid_session", "session_id"},
		{"unknown client secret", unknownSecret, f.s.id, "invalid_session", "session_id"},
		{"other session's secret", f.other.auth, f.s.id, "invalid_session", "session_id"},
	}
	routes := clientRoutes(h.clock().Year() + 2)
	for _, r := range routes {
		for _, v := range variants {
			t.Run(r.name+"/"+v.name, func(t *testing.T) {
				h.t = t
				resp := h.invoke(r.handler(h.app.Handlers), r.build(f, v.auth, v.sessionID))
				expectError(t, resp, http.StatusUnauthorized, v.code, v.param)
			})
		}
	}

	sessionVariants := []struct{ name, auth, code string }{
		{"no Authorization", "", "missing_authorization"},
		{"Basic scheme", "Basic x", "invalid_authorization"},
		{"Bearer without credential", "Bearer ", "invalid_authorization"},
		{"client secret for secret key", f.s.auth, "invalid_authorization"},
		{"unknown secret key", "Bearer sk_test_" + strings.Repeat("0", 48), "invalid_credentials"},
	}
	for _, v := range sessionVariants {
		t.Run("POST /sessions/"+v.name, func(t *testing.T) {
			h.t = t
			resp := h.invoke(h.app.Handlers.CreateSession(),
				request("POST", pathSessions, v.auth, "", nil, `{"customer_id":"cus_a"}`))
			expectError(t, resp, http.StatusUnauthorized, v.code, "")
		})
	}

	// Last, as it moves the clock: an expired session on every route.
	h.t = t
	h.advance(25 * time.Hour)
	for _, r := range routes {
		t.Run(r.name+"/expired session", func(t *testing.T) {
			h.t = t
			resp := h.invoke(r.handler(h.app.Handlers), r.build(f, f.s.auth, f.s.id))
			expectError(t, resp, http.StatusUnauthorized, "invalid_session", "session_id")
		})
	}
}

// bodyCase is one bad (or boundary) request body for a route. In body, $S
// is the session id, $T a card token id, $Y a future and $P a past year.
type bodyCase struct {
	name   string
	route  string
	body   string
	status int
	code   string
	param  string
}

var bodyCases = []bodyCase{
	// Not a JSON object.
	{"malformed JSON", "tokens", `{"session_id":`, 400, "invalid_json", ""},
	{"JSON array", "tokens", `[]`, 400, "invalid_json", ""},
	{"JSON string", "tokens", `"x"`, 400, "invalid_json", ""},
	{"JSON null", "tokens", `null`, 400, "invalid_json", ""},
	{"empty body", "tokens", ``, 400, "invalid_json", ""},
	{"blank body", "tokens", " \n\t", 400, "invalid_json", ""},
	{"trailing garbage", "tokens", `{"session_id":"$S"} {}`, 400, "invalid_json", ""},
	{"JSON array", "network-tokens", `[{"session_id":"$S"}]`, 400, "invalid_json", ""},
	{"empty body", "network-tokens", ``, 400, "invalid_json", ""},
	{"empty body", "cryptogram", ``, 400, "invalid_json", ""},
	{"empty body", "sessions", ``, 400, "invalid_json", ""},
	{"JSON array", "sessions", `[]`, 400, "invalid_json", ""},

	// Unknown fields.
	{"unknown top-level field", "tokens",
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_month":1,"exp_year":$Y},"cvc":"123"}`,
		400, "unknown_parameter", "cvc"},
	{"unknown card field", "tokens",
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_month":1,"exp_year":$Y,"cvc":"1"}}`,
		400, "unknown_parameter", "card[cvc]"},
	{"field name in another case", "tokens",
		`{"Session_ID":"$S","card":{"number":"4242424242424242","exp_month":1,"exp_year":$Y}}`,
		400, "unknown_parameter", "Session_ID"},
	{"unknown field", "network-tokens", `{"session_id":"$S","token_id":"$T","amount":1}`,
		400, "unknown_parameter", "amount"},
	{"unknown field", "cryptogram", `{"session_id":"$S","amount":1}`, 400, "unknown_parameter", "amount"},
	{"unknown field", "sessions", `{"customer":"x"}`, 400, "unknown_parameter", "customer"},

	// Wrong types.
	{"session_id number", "tokens",
		`{"session_id":123,"card":{"number":"4242424242424242","exp_month":1,"exp_year":$Y}}`,
		400, "invalid_type", "session_id"},
	{"card string", "tokens", `{"session_id":"$S","card":"4242424242424242"}`,
		400, "invalid_type", "card"},
	{"card array", "tokens", `{"session_id":"$S","card":[]}`, 400, "invalid_type", "card"},
	{"number as number", "tokens",
		`{"session_id":"$S","card":{"number":4242424242424242,"exp_month":1,"exp_year":$Y}}`,
		400, "invalid_type", "card[number]"},
	{"exp_month string", "tokens",
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_month":"12","exp_year":$Y}}`,
		400, "invalid_type", "card[exp_month]"},
	{"exp_month fraction", "tokens",
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_month":1.5,"exp_year":$Y}}`,
		400, "invalid_type", "card[exp_month]"},
	{"exp_month overflow", "tokens",
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_month":1e40,"exp_year":$Y}}`,
		400, "invalid_type", "card[exp_month]"},
	{"exp_year string", "tokens",
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_month":1,"exp_year":"$Y"}}`,
		400, "invalid_type", "card[exp_year]"},
	{"cardholder_name number", "tokens",
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_month":1,"exp_year":$Y,"cardholder_name":7}}`,
		400, "invalid_type", "card[cardholder_name]"},
	{"session_id number", "network-tokens", `{"session_id":1,"token_id":"$T"}`,
		400, "invalid_type", "session_id"},
	{"token_id number", "network-tokens", `{"session_id":"$S","token_id":1}`,
		400, "invalid_type", "token_id"},
	{"request_cryptogram string", "network-tokens",
		`{"session_id":"$S","token_id":"$T","request_cryptogram":"true"}`,
		400, "invalid_type", "request_cryptogram"},
	{"request_cryptogram number", "network-tokens",
		`{"session_id":"$S","token_id":"$T","request_cryptogram":1}`,
		400, "invalid_type", "request_cryptogram"},
	{"session_id object", "cryptogram", `{"session_id":{}}`, 400, "invalid_type", "session_id"},
	{"customer_id number", "sessions", `{"customer_id":5}`, 400, "invalid_type", "customer_id"},

	// Missing, null or empty required fields.
	{"missing session_id", "tokens",
		`{"card":{"number":"4242424242424242","exp_month":1,"exp_year":$Y}}`,
		400, "missing_parameter", "session_id"},
	{"missing card", "tokens", `{"session_id":"$S"}`, 400, "missing_parameter", "card"},
	{"missing number", "tokens", `{"session_id":"$S","card":{"exp_month":1,"exp_year":$Y}}`,
		400, "missing_parameter", "card[number]"},
	{"missing exp_month", "tokens",
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_year":$Y}}`,
		400, "missing_parameter", "card[exp_month]"},
	{"missing exp_year", "tokens",
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_month":1}}`,
		400, "missing_parameter", "card[exp_year]"},
	{"null session_id", "tokens",
		`{"session_id":null,"card":{"number":"4242424242424242","exp_month":1,"exp_year":$Y}}`,
		400, "missing_parameter", "session_id"},
	{"null card", "tokens", `{"session_id":"$S","card":null}`, 400, "missing_parameter", "card"},
	{"null exp_month", "tokens",
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_month":null,"exp_year":$Y}}`,
		400, "missing_parameter", "card[exp_month]"},
	{"empty number", "tokens",
		`{"session_id":"$S","card":{"number":"","exp_month":1,"exp_year":$Y}}`,
		400, "missing_parameter", "card[number]"},
	{"empty session_id", "tokens",
		`{"session_id":"","card":{"number":"4242424242424242","exp_month":1,"exp_year":$Y}}`,
		400, "missing_parameter", "session_id"},
	{"missing session_id", "network-tokens", `{"token_id":"$T"}`, 400, "missing_parameter", "session_id"},
	{"missing token_id", "network-tokens", `{"session_id":"$S"}`, 400, "missing_parameter", "token_id"},
	{"null token_id", "network-tokens", `{"session_id":"$S","token_id":null}`,
		400, "missing_parameter", "token_id"},
	{"missing session_id", "cryptogram", `{}`, 400, "missing_parameter", "session_id"},
	{"null session_id", "cryptogram", `{"session_id":null}`, 400, "missing_parameter", "session_id"},

	// Card refusals.
	{"Luhn failure", "tokens", cardTemplate("4242424242424241", "1", "$Y"),
		400, "invalid_card_number", "card[number]"},
	{"letters", "tokens", cardTemplate("4242abcd42424242", "1", "$Y"),
		400, "invalid_card_number", "card[number]"},
	{"spaces", "tokens", cardTemplate("4242 4242 4242 4242", "1", "$Y"),
		400, "invalid_card_number", "card[number]"},
	{"too short", "tokens", cardTemplate("424242424242", "1", "$Y"),
		400, "invalid_card_number", "card[number]"},
	{"too long", "tokens", cardTemplate("42424242424242424242", "1", "$Y"),
		400, "invalid_card_number", "card[number]"},
	{"Visa with 15 digits", "tokens", cardTemplate("424242424242428", "1", "$Y"),
		400, "invalid_card_number", "card[number]"},
	{"Amex with 16 digits", "tokens", cardTemplate("3782822463100053", "1", "$Y"),
		400, "invalid_card_number", "card[number]"},
	{"unknown brand", "tokens", cardTemplate("9000000000000008", "1", "$Y"),
		400, "invalid_card_number", "card[number]"},
	{"exp_month 0", "tokens", cardTemplate("4242424242424242", "0", "$Y"),
		400, "invalid_expiry_month", "card[exp_month]"},
	{"exp_month 13", "tokens", cardTemplate("4242424242424242", "13", "$Y"),
		400, "invalid_expiry_month", "card[exp_month]"},
	{"exp_month negative", "tokens", cardTemplate("4242424242424242", "-1", "$Y"),
		400, "invalid_expiry_month", "card[exp_month]"},
	{"two-digit exp_year", "tokens", cardTemplate("4242424242424242", "1", "30"),
		400, "invalid_expiry_year", "card[exp_year]"},
	{"exp_year too far", "tokens", cardTemplate("4242424242424242", "1", "9999"),
		400, "invalid_expiry_year", "card[exp_year]"},
	{"past expiry", "tokens", cardTemplate("4242424242424242", "12", "$P"),
		422, "card_expired", "card[exp_month]"},
	{"cardholder name too long", "tokens",
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_month":1,"exp_year":$Y,` +
			`"cardholder_name":"` + strings.Repeat("n", 101) + `"}}`,
		400, "invalid_cardholder_name", "card[cardholder_name]"},
	{"customer_id too long", "sessions", `{"customer_id":"` + strings.Repeat("c", 256) + `"}`,
		400, "invalid_customer_id", "customer_id"},

	// Things that are not found.
	{"unknown card token", "network-tokens",
		`{"session_id":"$S","token_id":"tok_card_` + strings.Repeat("0", 32) + `"}`,
		404, "resource_not_found", "token_id"},
	{"malformed card token", "network-tokens", `{"session_id":"$S","token_id":"tok_card_x/../y"}`,
		404, "resource_not_found", "token_id"},
	{"network token id as card token", "network-tokens",
		`{"session_id":"$S","token_id":"nt_` + strings.Repeat("0", 32) + `"}`,
		404, "resource_not_found", "token_id"},

	// Size.
	{"body over 16 KiB", "tokens", `{"session_id":"$S","pad":"` + strings.Repeat("x", 16<<10) + `"}`,
		413, "request_too_large", ""},
	{"body over 16 KiB", "sessions", `{"customer_id":"` + strings.Repeat("x", 20<<10) + `"}`,
		413, "request_too_large", ""},
	{"body over 16 KiB", "cryptogram", strings.Repeat(" ", 16<<10) + `{"session_id":"$S"}`,
		413, "request_too_large", ""},
}

func cardTemplate(number, month, year string) string {
	return `{"session_id":"$S","card":{"number":"` + number + `","exp_month":` + month +
		`,"exp_year":` + year + `}}`
}

// TestBodyMatrix sends each route malformed, mistyped, incomplete and
// refused bodies with valid credentials.
func TestBodyMatrix(t *testing.T) {
	h := newHarness(t)
	f := newFixture(h)
	year := h.clock().Year()
	fill := strings.NewReplacer("$S", f.s.id, "$T", f.cardID,
		"$Y", strconv.Itoa(year+2), "$P", strconv.Itoa(year-1))
	for _, c := range bodyCases {
		t.Run(c.route+"/"+c.name, func(t *testing.T) {
			h.t = t
			body := fill.Replace(c.body)
			resp := h.invoke(bodyRoute(h, f, c.route, body))
			expectError(t, resp, c.status, c.code, c.param)
			if n := cardNumberIn(body); n != "" && strings.Contains(resp.Body, n) {
				t.Errorf("error body echoes the card number: %s", resp.Body)
			}
			if n := cardNumberIn(body); n != "" && strings.Contains(h.logs.String(), n) {
				t.Errorf("log echoes the card number")
			}
		})
	}
}

// bodyRoute returns the handler and request of a route for a body.
func bodyRoute(h *harness, f fixture, route, body string) (httpapi.Handler, events.APIGatewayV2HTTPRequest) {
	hs := h.app.Handlers
	switch route {
	case "sessions":
		return hs.CreateSession(), request("POST", pathSessions, "Bearer "+h.key, "", nil, body)
	case "tokens":
		return hs.CreateCardToken(), request("POST", pathTokens, f.s.auth, "", nil, body)
	case "network-tokens":
		return hs.CreateNetworkToken(), request("POST", pathNetworkTokens, f.s.auth, "", nil, body)
	case "cryptogram":
		return hs.CreateCryptogram(), request("POST", ntPath(f.ntID)+"/cryptogram", f.s.auth, f.ntID, nil, body)
	}
	panic("unknown route " + route)
}

// cardNumberIn returns card.number of a JSON body when it is a string of at
// least 12 characters, or "".
func cardNumberIn(body string) string {
	var in struct {
		Card struct {
			Number any `json:"number"`
		} `json:"card"`
	}
	_ = json.Unmarshal([]byte(body), &in)
	if s, ok := in.Card.Number.(string); ok && len(s) >= 12 {
		return s
	}
	return ""
}

// TestBodySizeBoundary: a body of exactly 16 KiB is read, one byte more is
// refused.
func TestBodySizeBoundary(t *testing.T) {
	h := newHarness(t)
	s := h.newSession(h.key, "")
	body := cardBody(s.id, "4242424242424242", 1, h.clock().Year()+1)
	exact := strings.Repeat(" ", httpapi.MaxBodyBytes-len(body)) + body
	for _, c := range []struct {
		body   string
		status int
	}{
		{exact, http.StatusCreated},
		{" " + exact, http.StatusRequestEntityTooLarge},
	} {
		st, out := h.call(h.app.Handlers.CreateCardToken(), "POST", pathTokens, s.auth, "", nil, c.body)
		if st != c.status {
			t.Errorf("%d-byte body: status %d, want %d: %v", len(c.body), st, c.status, out)
		}
	}
}

// TestIDAndQueryMatrix: bad query parameters are 400; a malformed id, an
// unknown id and another merchant's token are the same 404.
func TestIDAndQueryMatrix(t *testing.T) {
	h := newHarness(t)
	f := newFixture(h)
	otherKey := h.merchantKey("mer_other")
	foreign := h.networkToken(h.newSession(otherKey, "cus_a"), "4111111111111111")
	hs := h.app.Handlers

	type target struct {
		name string
		call func(id string, query map[string]string) events.APIGatewayV2HTTPResponse
	}
	targets := []target{
		{"GET", func(id string, q map[string]string) events.APIGatewayV2HTTPResponse {
			return h.invoke(hs.GetNetworkToken(), request("GET", ntPath(id), f.s.auth, id, q, ""))
		}},
		{"DELETE", func(id string, q map[string]string) events.APIGatewayV2HTTPResponse {
			return h.invoke(hs.DeleteNetworkToken(), request("DELETE", ntPath(id), f.s.auth, id, q, ""))
		}},
		{"cryptogram", func(id string, _ map[string]string) events.APIGatewayV2HTTPResponse {
			return h.invoke(hs.CreateCryptogram(), request("POST", ntPath(id)+"/cryptogram", f.s.auth, id,
				nil, `{"session_id":`+quote(f.s.id)+`}`))
		}},
	}
	own := map[string]string{"session_id": f.s.id}
	ids := []struct{ name, id string }{
		{"malformed id", "nt_123"},
		{"id with path characters", "nt_../../" + strings.Repeat("a", 26)},
		{"empty id", ""},
		{"card token id", f.cardID},
		{"unknown id", "nt_" + strings.Repeat("f", 32)},
		{"upper-case hex", strings.ToUpper(f.ntID[:3]) + strings.ToUpper(f.ntID[3:])},
		{"other merchant's token", foreign},
	}
	for _, tg := range targets {
		var first map[string]any
		for _, c := range ids {
			t.Run(tg.name+"/"+c.name, func(t *testing.T) {
				h.t = t
				body := expectError(t, tg.call(c.id, own), http.StatusNotFound, "resource_not_found", "id")
				e := body["error"].(map[string]any)
				if first == nil {
					first = e
				} else if e["message"] != first["message"] {
					t.Errorf("message %q differs from %q", e["message"], first["message"])
				}
			})
		}
	}

	queries := []struct {
		name  string
		query map[string]string
		code  string
		param string
	}{
		{"unknown parameter", map[string]string{"session_id": f.s.id, "expand": "x"},
			"unknown_parameter", "expand"},
		{"missing session_id", nil, "missing_parameter", "session_id"},
		{"empty session_id", map[string]string{"session_id": ""}, "missing_parameter", "session_id"},
		{"session_id in another case", map[string]string{"Session_Id": f.s.id},
			"unknown_parameter", "Session_Id"},
	}
	for _, tg := range targets[:2] {
		for _, q := range queries {
			t.Run(fmt.Sprintf("%s/%s", tg.name, q.name), func(t *testing.T) {
				h.t = t
				expectError(t, tg.call(f.ntID, q.query), http.StatusBadRequest, q.code, q.param)
			})
		}
	}

	// The token the 404s were about is untouched.
	h.t = t
	if st, body := h.get(f.s, f.ntID); st != http.StatusOK || str(body, "status") != "active" {
		t.Errorf("own token after the matrix: %d %v", st, body)
	}
}
