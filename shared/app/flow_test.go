package app_test

import (
	"fmt"
	"testing"
)

func TestPublishedFlowSmoke(t *testing.T) {
	h := newHarness(t)
	hs := h.app.Handlers
	st, sess := h.call(hs.CreateSession(), "POST", "/functions/v1/sessions", "Bearer "+h.key, "", nil, `{"customer_id":"cus_1"}`)
	fmt.Println(st, sess)
	auth := "Bearer " + sess["clientSecret"].(string)
	sid := sess["id"].(string)
	st, card := h.call(hs.CreateCardToken(), "POST", "/functions/v1/tokens", auth, "", nil,
		`{"session_id":"`+sid+`","card":{"number":"4242424242424242","exp_month":12,"exp_year":2030}}`)
	fmt.Println(st, card)
	st, nt := h.call(hs.CreateNetworkToken(), "POST", "/functions/v1/network-tokens", auth, "", nil,
		`{"session_id":"`+sid+`","token_id":"`+card["id"].(string)+`","request_cryptogram":true}`)
	fmt.Println(st, nt)
	st, nt2 := h.call(hs.CreateNetworkToken(), "POST", "/functions/v1/network-tokens", auth, "", nil,
		`{"session_id":"`+sid+`","token_id":"`+card["id"].(string)+`"}`)
	fmt.Println(st, nt2)
	id := nt["networkTokenId"].(string)
	st, cg := h.call(hs.CreateCryptogram(), "POST", "/x", auth, id, nil, `{"session_id":"`+sid+`"}`)
	fmt.Println(st, cg)
	st, g := h.call(hs.GetNetworkToken(), "GET", "/x", auth, id, map[string]string{"session_id": sid}, "")
	fmt.Println(st, g)
	st, d := h.call(hs.DeleteNetworkToken(), "DELETE", "/x", auth, id, map[string]string{"session_id": sid}, "")
	fmt.Println(st, d)
	st, cg = h.call(hs.CreateCryptogram(), "POST", "/x", auth, id, nil, `{"session_id":"`+sid+`"}`)
	fmt.Println(st, cg)
	n, err := h.app.Relay.Sweep(t.Context())
	fmt.Println(n, err, h.events.String())
	fmt.Println(h.logs.String())
}
