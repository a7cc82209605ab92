package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/networks"
)

// secrets names every secret value a test saw, by a label safe to print.
type secrets map[string]string

func (s secrets) add(label, value string) {
	if value == "" {
		panic("empty secret for " + label)
	}
	s[label] = value
}

// leaks returns the labels of the secrets found in any of the haystacks.
func (s secrets) leaks(haystacks ...[]byte) []string {
	var found []string
	for label, v := range s {
		for _, hay := range haystacks {
			if bytes.Contains(hay, []byte(v)) {
				found = append(found, label)
				break
			}
		}
	}
	return found
}

// TestSecretsNeverLeak runs the flow for every test card, refusals included,
// and then looks for every PAN, token PAN, cryptogram, client secret and
// secret key in the logs, the published events and every attribute of every
// item in the table.
func TestSecretsNeverLeak(t *testing.T) {
	h := newHarness(t)
	found := secrets{}
	found.add("merchant secret key", h.key)
	otherKey := h.merchantKey("mer_other")
	found.add("other merchant secret key", otherKey)

	for i, tc := range networks.TestCards {
		label := tc.Description + " " + last4(tc.Number)
		found.add("card PAN "+label, tc.Number)
		key := h.key
		if i%2 == 1 {
			key = otherKey
		}
		s := h.newSession(key, "cus_secret")
		found.add("client secret "+label, strings.TrimPrefix(s.auth, "Bearer "))
		st, nt := h.provision(s, h.tokenize(s, tc.Number), true)
		if tc.Behaviour != networks.BehaviourApprove {
			if st != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d, want 422", label, st)
			}
			continue
		}
		wantStatus(t, label, st, http.StatusCreated, nt)
		ntID := str(nt, "networkTokenId")
		found.add("cryptogram at provisioning "+label, str(nt, "cryptogram"))
		_, cg := h.cryptogram(s, ntID)
		found.add("cryptogram "+label, str(cg, "cryptogram"))
		tokenPAN := h.tokenPAN(ntID)
		if tokenPAN[len(tokenPAN)-4:] != str(nt, "tokenLast4") || tokenPAN == tc.Number {
			t.Errorf("%s: token PAN …%s does not fit the answer", label, last4(tokenPAN))
		}
		found.add("token PAN "+label, tokenPAN)
		h.get(s, ntID)
		h.delete(s, ntID)
	}

	// Refused cards and malformed numbers on the error paths.
	s := h.newSession(h.key, "")
	found.add("client secret of the error session", strings.TrimPrefix(s.auth, "Bearer "))
	for _, number := range []string{"4242424242424241", "5555555555554444", "4000056655665556"} {
		for _, body := range []string{
			cardBody(s.id, number, 1, h.clock().Year()-1),
			cardBody(s.id, number, 13, h.clock().Year()+1),
			`{"session_id":` + quote(s.id) + `,"card":{"number":` + quote(number) + `,"cvc":1}}`,
		} {
			resp := h.invoke(h.app.Handlers.CreateCardToken(), request("POST", pathTokens, s.auth, "", nil, body))
			if resp.StatusCode < 400 || strings.Contains(resp.Body, number) {
				t.Errorf("error body for …%s: %d %s", last4(number), resp.StatusCode, resp.Body)
			}
		}
		found.add("refused PAN "+last4(number), number)
	}

	h.sweep()
	if leaked := found.leaks([]byte(h.logs.String())); len(leaked) > 0 {
		t.Errorf("logs hold: %v", leaked)
	}
	if leaked := found.leaks([]byte(h.events.String())); len(leaked) > 0 {
		t.Errorf("events hold: %v", leaked)
	}
	if !strings.Contains(h.events.String(), "network_token.created") {
		t.Error("no events were published, so the event check proves nothing")
	}

	items := scanTable(t, h)
	var hay [][]byte
	for _, item := range items {
		hay = append(hay, attributeBytes(&types.AttributeValueMemberM{Value: item})...)
	}
	if leaked := found.leaks(hay...); len(leaked) > 0 {
		t.Errorf("the table holds: %v", leaked)
	}
	// Controls: the search sees values that are stored in clear, and the
	// sealed values are there to search.
	control := secrets{"a session id": s.id, "a last four": "4242"}
	if got := control.leaks(hay...); len(got) != len(control) {
		t.Errorf("the table scan found only %v of %d clear values", got, len(control))
	}
	if binaries := countBinary(items); binaries == 0 {
		t.Error("no binary attributes in the table: nothing sealed was searched")
	}
}

// tokenPAN opens a token's sealed PAN through the envelope, and checks the
// sandbox network agrees.
func (h *harness) tokenPAN(ntID string) string {
	h.t.Helper()
	ctx := context.Background()
	rec, err := h.app.Store.NetworkToken(ctx, ntID)
	if err != nil {
		h.t.Fatal(err)
	}
	sealer := envelope.New(h.stack.KMS, h.stack.KeyID)
	plain, err := sealer.Open(ctx, rec.SealedTokenPAN,
		envelope.Context{Merchant: rec.MerchantID, Record: ntID, Purpose: "token_pan"})
	if err != nil {
		h.t.Fatalf("opening the token PAN: %v", err)
	}
	sandbox := networks.NewSandbox(h.app.Store.SandboxState(sealer), h.clock)
	provider, err := sandbox.Provider(networks.Network(rec.Network))
	if err != nil {
		h.t.Fatal(err)
	}
	tok, err := provider.Token(ctx, rec.Reference)
	if err != nil {
		h.t.Fatal(err)
	}
	if tok.TokenPAN.Reveal() != string(plain) {
		h.t.Fatalf("the sealed token PAN differs from the network's")
	}
	return string(plain)
}

// scanTable returns every item in the table, expired ones included.
func scanTable(t *testing.T, h *harness) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(h.stack.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(h.stack.Table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scanning the table: %v", err)
		}
		items = append(items, page.Items...)
	}
	if len(items) == 0 {
		t.Fatal("the table is empty")
	}
	return items
}

// attributeBytes returns every value inside an attribute as bytes: strings
// and numbers as they are, binaries raw, and any string that is Base64 or
// hex also decoded.
func attributeBytes(av types.AttributeValue) [][]byte {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return stringForms(v.Value)
	case *types.AttributeValueMemberN:
		return [][]byte{[]byte(v.Value)}
	case *types.AttributeValueMemberB:
		return [][]byte{v.Value, []byte(base64.StdEncoding.EncodeToString(v.Value))}
	case *types.AttributeValueMemberSS:
		var out [][]byte
		for _, s := range v.Value {
			out = append(out, stringForms(s)...)
		}
		return out
	case *types.AttributeValueMemberNS:
		var out [][]byte
		for _, s := range v.Value {
			out = append(out, []byte(s))
		}
		return out
	case *types.AttributeValueMemberBS:
		return v.Value
	case *types.AttributeValueMemberL:
		var out [][]byte
		for _, e := range v.Value {
			out = append(out, attributeBytes(e)...)
		}
		return out
	case *types.AttributeValueMemberM:
		var out [][]byte
		for k, e := range v.Value {
			out = append(out, []byte(k))
			out = append(out, attributeBytes(e)...)
		}
		return out
	}
	return nil
}

func stringForms(s string) [][]byte {
	out := [][]byte{[]byte(s)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding,
		base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			out = append(out, b)
		}
	}
	if b, err := hex.DecodeString(s); err == nil {
		out = append(out, b)
	}
	return out
}

func countBinary(items []map[string]types.AttributeValue) int {
	n := 0
	for _, item := range items {
		for _, av := range item {
			if _, ok := av.(*types.AttributeValueMemberB); ok {
				n++
			}
		}
	}
	return n
}

// TestLeakSearch checks the search itself: a secret hidden raw in a binary,
// Base64 in a string or inside a nested map is found.
func TestLeakSearch(t *testing.T) {
	const pan = "4242424242424242"
	s := secrets{"pan": pan}
	cases := []types.AttributeValue{
		&types.AttributeValueMemberB{Value: []byte("xx" + pan + "yy")},
		&types.AttributeValueMemberS{Value: base64.StdEncoding.EncodeToString([]byte(`{"pan":"` + pan + `"}`))},
		&types.AttributeValueMemberS{Value: hex.EncodeToString([]byte(pan))},
		&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"a": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberS{Value: "card " + pan},
			}},
		}},
	}
	for i, av := range cases {
		if got := s.leaks(attributeBytes(av)...); len(got) != 1 {
			t.Errorf("case %d: the PAN was not found", i)
		}
	}
	clean := &types.AttributeValueMemberS{Value: "****4242"}
	if got := s.leaks(attributeBytes(clean)...); len(got) != 0 {
		t.Errorf("a masked PAN was reported as a leak")
	}
}
