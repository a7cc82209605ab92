package main

import "strings"

// walkthrough is the copy-paste tour printed at start: the published flow,
// one curl per step, with shell variables carrying ids between steps.
func walkthrough(base, key string) string {
	r := strings.NewReplacer("{{BASE}}", base, "{{KEY}}", key)
	return r.Replace(`
Atlas Network Tokens dev server on {{BASE}}
Dev merchant secret key: {{KEY}}

Walkthrough (needs curl and jq; paste step by step):

  BASE={{BASE}}
  SK={{KEY}}

  # 1. A payment session (merchant secret key)
  SESSION=$(curl -s -X POST $BASE/functions/v1/sessions -H "Authorization: Bearer $SK" \
    -H "Content-Type: application/json" -d '{"customer_id":"cus_123"}')
  SESSION_ID=$(echo "$SESSION" | jq -r .id); CS=$(echo "$SESSION" | jq -r .clientSecret)

  # 2. Tokenize a test card (client secret)
  TOKEN_ID=$(curl -s -X POST $BASE/functions/v1/tokens -H "Authorization: Bearer $CS" \
    -H "Content-Type: application/json" \
    -d '{"session_id":"'$SESSION_ID'","card":{"number":"4242424242424242","exp_month":12,"exp_year":2030}}' \
    | jq -r .id)

  # 3. Create Network Token, with a cryptogram
  NT=$(curl -s -X POST $BASE/functions/v1/network-tokens -H "Authorization: Bearer $CS" \
    -H "Content-Type: application/json" \
    -d '{"session_id":"'$SESSION_ID'","token_id":"'$TOKEN_ID'","request_cryptogram":true}')
  echo "$NT" | jq .; NT_ID=$(echo "$NT" | jq -r .networkTokenId)

  # 4. Generate Cryptogram for the next payment
  curl -s -X POST $BASE/functions/v1/network-tokens/$NT_ID/cryptogram \
    -H "Authorization: Bearer $CS" -H "Content-Type: application/json" \
    -d '{"session_id":"'$SESSION_ID'"}' | jq .

  # 5. Get Network Token
  curl -s "$BASE/functions/v1/network-tokens/$NT_ID?session_id=$SESSION_ID" \
    -H "Authorization: Bearer $CS" | jq .

  # 6. Delete Network Token
  curl -s -X DELETE "$BASE/functions/v1/network-tokens/$NT_ID?session_id=$SESSION_ID" \
    -H "Authorization: Bearer $CS" | jq .

Events appear below as JSON lines; request logs go to stderr.

`)
}
