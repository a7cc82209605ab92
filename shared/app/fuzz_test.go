package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/atlas-network-tokens/atlas/shared/logging"
)

// FuzzCreateCardToken feeds arbitrary bodies to POST /tokens with a valid
// session. In a body, $S stands for the session id, so that inputs reach card
// validation. Whatever the body: no Go error, no 5xx, a JSON body, the one
// error shape, and no card number echoed.
func FuzzCreateCardToken(f *testing.F) {
	for _, seed := range []string{
		`{"session_id":"$S","card":{"number":"4242424242424242","exp_month":12,"exp_year":2099}}`,
		`{"session_id":"$S","card":{"number":"4242424242424241","exp_month":1,"exp_year":2030,` +
			`"cardholder_name":"A"}}`,
		`{"session_id":"$S","card":{"number":"378282246310005","exp_month":"1","exp_year":2030}}`,
		`{"session_id":"$S","card":{"number":"6011111111111117","exp_month":0,"exp_year":-1}}`,
		`{"session_id":"$S","card":{"number":null,"exp_month":1e309}}`,
		`{"session_id":"$S","card":[{"number":"4242424242424242"}]}`,
		`{"session_id":"$S","card":{"card":{"card":{}}}}`,
		`{"session_id":1}`,
		`[]`,
		`{"session_id":"$S"`,
		"\xff\xfe{}",
		``,
	} {
		f.Add(seed)
	}
	h := newHarness(f)
	s := h.newSession(h.key, "cus_fuzz")
	handler := h.app.Handlers.CreateCardToken()

	f.Fuzz(func(t *testing.T, body string) {
		body = strings.ReplaceAll(body, "$S", s.id)
		req := request("POST", pathTokens, s.auth, "", nil, body)
		resp, err := handler(context.Background(), req)
		if err != nil {
			t.Fatalf("Go error: %v", err)
		}
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("status %d for %q: %s", resp.StatusCode, body, resp.Body)
		}
		out, err := checkResponse(resp)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == 201 && !cardTokenIDPattern.MatchString(str(out, "id")) {
			t.Fatalf("201 without a card token id: %s", resp.Body)
		}
		if n := cardNumberIn(body); n != "" && strings.Contains(resp.Body, n) {
			t.Fatalf("the response echoes the card number: %s", resp.Body)
		}
		if resp.StatusCode >= 400 && logging.Scrub(resp.Body) != resp.Body {
			t.Fatalf("an error body holds a card-number-shaped run: %s", resp.Body)
		}
	})
}
