package app_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/atlas-network-tokens/atlas/shared/awsfault"
	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/publish"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// want503 checks an answer is the one outage body: 503, code
// service_unavailable (harness.call already checked Retry-After and shape).
func want503(t *testing.T, what string, status int, body map[string]any) {
	t.Helper()
	if code, _ := errorOf(body); status != http.StatusServiceUnavailable ||
		code != "service_unavailable" {
		t.Fatalf("%s: %d %v, want 503 service_unavailable", what, status, body)
	}
}

// tokensOfCard returns the network token records stored for a card.
func (e *awsEnv) tokensOfCard(cardID string) []map[string]types.AttributeValue {
	var out []map[string]types.AttributeValue
	for _, item := range e.itemsWithPK("NT#") {
		if stringAttr(item, "sk") == "NT" && stringAttr(item, "cardTokenId") == cardID {
			out = append(out, item)
		}
	}
	return out
}

// cardRecords counts the stored card tokens.
func (e *awsEnv) cardRecords() int {
	n := 0
	for _, item := range e.itemsWithPK("CARD#") {
		if stringAttr(item, "sk") == "CARD" {
			n++
		}
	}
	return n
}

func (e *awsEnv) outboxSize() int { return len(e.itemsWithPK("OUTBOX#")) }

// warmUp provisions one token, so that the sandbox root key exists and a
// later fault hits the step under test rather than the key's creation.
func (e *awsEnv) warmUp() {
	e.t.Helper()
	s := e.h.newSession(e.h.key, "cus_warm")
	e.h.networkToken(s, "5555555555554444")
}

// A DynamoDB write that throttles or fails on the provisioning transaction
// answers 503; nothing is half-written, the card is free again, and a
// retry provisions exactly one token.
func TestDynamoDBWriteFaultsOnProvision(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	tests := []struct {
		name  string
		fault awsfault.Fault
	}{
		{"throughput exceeded", awsfault.Error("TransactWriteItems", 400,
			"ProvisionedThroughputExceededException", "The level of configured provisioned "+
				"throughput for the table was exceeded.")},
		{"throttling", awsfault.Error("TransactWriteItems", 400, "ThrottlingException",
			"Rate of requests exceeds the allowed throughput.")},
		{"internal server error", awsfault.Error("TransactWriteItems", 500,
			"InternalServerError", "Internal server error")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.newSession(h.key, "cus_ddb")
			cardID := h.tokenize(s, "4242424242424242")
			outbox := e.outboxSize()

			e.dbFaults.Inject(tt.fault)
			status, body := h.provision(s, cardID, true)
			e.dbFaults.Clear()
			want503(t, "provision", status, body)

			if got := e.tokensOfCard(cardID); len(got) != 0 {
				t.Errorf("%d token records after a failed provision", len(got))
			}
			if got := e.outboxSize(); got != outbox {
				t.Errorf("outbox grew from %d to %d", outbox, got)
			}
			_, err := h.app.Store.CardLink(context.Background(), cardID)
			if !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("card link after the failure: %v, want released", err)
			}

			status, body = h.provision(s, cardID, false)
			if status != http.StatusCreated || len(e.tokensOfCard(cardID)) != 1 {
				t.Fatalf("retry: %d %v; %d records", status, body, len(e.tokensOfCard(cardID)))
			}
		})
	}
}

// When DynamoDB refuses every write, the claim cannot be released either:
// the card stays claimed until its lease runs out (409 while it holds),
// then a retry takes it over.
func TestDynamoDBDownLeavesARetakableClaim(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	s := h.newSession(h.key, "cus_down")
	cardID := h.tokenize(s, "4111111111111111")

	e.dbFaults.Inject(awsfault.Error("TransactWriteItems", 500, "InternalServerError", "down"))
	e.dbFaults.Inject(awsfault.Error("DeleteItem", 500, "InternalServerError", "down"))
	status, body := h.provision(s, cardID, false)
	e.dbFaults.Clear()
	want503(t, "provision", status, body)
	link, err := h.app.Store.CardLink(context.Background(), cardID)
	if err != nil || link.State != store.LinkClaimed {
		t.Fatalf("link = %+v, %v; want a stranded claim", link, err)
	}
	if len(e.tokensOfCard(cardID)) != 0 || e.outboxSize() != 0 {
		t.Fatal("a failed provision left a token or an event")
	}

	status, body = h.provision(s, cardID, false)
	if code, _ := errorOf(body); status != http.StatusConflict ||
		code != "provisioning_in_progress" {
		t.Fatalf("while the lease holds: %d %v, want 409 provisioning_in_progress", status, body)
	}

	h.advance(31 * time.Second)
	status, body = h.provision(s, cardID, false)
	if status != http.StatusCreated || len(e.tokensOfCard(cardID)) != 1 {
		t.Fatalf("after the lease: %d %v", status, body)
	}
}

// A failed card write after sealing answers 503 and stores no card.
func TestDynamoDBWriteFaultOnTokenize(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	s := h.newSession(h.key, "cus_put")
	before := e.cardRecords()

	e.dbFaults.Inject(awsfault.Error("PutItem", 500, "InternalServerError", "oops").Once())
	status, body := h.call(h.app.Handlers.CreateCardToken(), "POST", pathTokens, s.auth, "",
		nil, cardBody(s.id, "4242424242424242", 12, 2031))
	want503(t, "tokenize", status, body)
	if got := e.cardRecords(); got != before {
		t.Errorf("card records %d -> %d", before, got)
	}
}

// KMS throttling and internal errors on GenerateDataKey (sealing) and
// Decrypt (opening) answer 503 and store nothing.
func TestKMSFaults(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	e.warmUp()
	throttle := func(op string) awsfault.Fault {
		return awsfault.Error(op, 400, "ThrottlingException", "Rate exceeded")
	}
	internal := func(op string) awsfault.Fault {
		return awsfault.Error(op, 500, "KMSInternalException", "internal")
	}
	tests := []struct {
		name      string
		fault     awsfault.Fault
		provision bool // fault the provision; else the tokenize
	}{
		{"GenerateDataKey throttled on tokenize", throttle("GenerateDataKey"), false},
		{"GenerateDataKey 500 on tokenize", internal("GenerateDataKey"), false},
		{"Decrypt throttled on provision", throttle("Decrypt"), true},
		{"Decrypt 500 on provision", internal("Decrypt"), true},
		{"GenerateDataKey 500 on provision", internal("GenerateDataKey"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.newSession(h.key, "cus_kms")
			cards, outbox := e.cardRecords(), e.outboxSize()
			if !tt.provision {
				e.kmsFaults.Inject(tt.fault)
				status, body := h.call(h.app.Handlers.CreateCardToken(), "POST", pathTokens,
					s.auth, "", nil, cardBody(s.id, "4242424242424242", 12, 2031))
				e.kmsFaults.Clear()
				want503(t, "tokenize", status, body)
				if got := e.cardRecords(); got != cards {
					t.Errorf("card records %d -> %d", cards, got)
				}
				return
			}
			cardID := h.tokenize(s, "378282246310005")
			e.kmsFaults.Inject(tt.fault)
			status, body := h.provision(s, cardID, false)
			e.kmsFaults.Clear()
			want503(t, "provision", status, body)
			if e.kmsFaults.Injected(tt.fault.Operation) == 0 {
				t.Fatal("the fault never fired")
			}
			if len(e.tokensOfCard(cardID)) != 0 || e.outboxSize() != outbox {
				t.Error("a failed provision left a token or an event")
			}
			if _, err := h.app.Store.CardLink(context.Background(), cardID); !errors.Is(err,
				fault.ErrNotFound) {
				t.Errorf("card link: %v, want none", err)
			}
		})
	}
}

// local-kms enforces key state: with the key disabled, sealing fails and
// the API answers 503; enabled again, it works.
func TestKMSKeyDisabled(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	ctx := context.Background()
	s := h.newSession(h.key, "cus_disabled")
	cards := e.cardRecords()

	if _, err := e.kms.DisableKey(ctx, &kms.DisableKeyInput{KeyId: &e.keyID}); err != nil {
		t.Fatal(err)
	}
	status, body := h.call(h.app.Handlers.CreateCardToken(), "POST", pathTokens, s.auth, "",
		nil, cardBody(s.id, "4242424242424242", 12, 2031))
	want503(t, "tokenize with a disabled key", status, body)
	if got := e.cardRecords(); got != cards {
		t.Errorf("card records %d -> %d", cards, got)
	}

	if _, err := e.kms.EnableKey(ctx, &kms.EnableKeyInput{KeyId: &e.keyID}); err != nil {
		t.Fatal(err)
	}
	h.tokenize(s, "4242424242424242")
}

// bumpVersion changes a token behind the service's back, as a concurrent
// notification would.
func (e *awsEnv) bumpVersion(ntID string) {
	e.t.Helper()
	_, err := e.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: &e.appCfg.Table,
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "NT#" + ntID},
			"sk": &types.AttributeValueMemberS{Value: "NT"},
		},
		UpdateExpression: aws.String("SET version = version + :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
		},
	})
	if err != nil {
		e.t.Fatalf("bumping version: %v", err)
	}
}

// A delete that loses its conditional write to a concurrent change looks
// again and records the deletion, since the network has already deleted the
// token: the answer is the deleted token and one deleted event is queued.
// One that loses to a concurrent delete gets the deleted token too (the
// idempotent answer), and only one deleted event is queued.
func TestConcurrentUpdateOnDelete(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	ctx := context.Background()

	t.Run("changed meanwhile", func(t *testing.T) {
		s := h.newSession(h.key, "cus_race")
		ntID := h.networkToken(s, "4242424242424242")
		outbox := e.outboxSize()

		e.dbFaults.Inject(awsfault.Before("TransactWriteItems", func() { e.bumpVersion(ntID) }).Once())
		status, body := h.delete(s, ntID)
		if status != http.StatusOK || str(body, "status") != "deleted" {
			t.Fatalf("delete: %d %v, want 200 deleted", status, body)
		}
		rec, err := h.app.Store.NetworkToken(ctx, ntID)
		if err != nil || rec.Status != store.StatusDeleted || rec.Version != 3 {
			t.Fatalf("after the race: %+v %v; want deleted at version 3", rec, err)
		}
		if got := e.outboxSize(); got != outbox+1 {
			t.Errorf("outbox %d -> %d, want one deleted event", outbox, got)
		}
	})

	t.Run("deleted meanwhile", func(t *testing.T) {
		s := h.newSession(h.key, "cus_race2")
		ntID := h.networkToken(s, "5555555555554444")
		if _, err := h.app.Relay.Sweep(ctx); err != nil {
			t.Fatal(err)
		}

		e.dbFaults.Inject(awsfault.Before("TransactWriteItems", func() {
			if status, body := h.delete(s, ntID); status != http.StatusOK {
				t.Errorf("the concurrent delete: %d %v", status, body)
			}
		}))
		status, body := h.delete(s, ntID)
		if status != http.StatusOK || str(body, "status") != "deleted" {
			t.Fatalf("losing delete: %d %v, want 200 deleted", status, body)
		}
		pending, err := h.app.Store.PendingOutbox(ctx, 100)
		if err != nil || len(pending) != 1 {
			t.Fatalf("outbox after two deletes: %d entries (%v), want one", len(pending), err)
		}
	})
}

// An EventBridge failure belongs to the relay, never to the API caller:
// the state change and its event were committed in one transaction, so the
// caller got its 201; the relay's sweep fails with fault.ErrUnavailable,
// keeps the outbox entry, and a later sweep delivers it.
func TestPublishFailureKeepsTheEvent(t *testing.T) {
	tests := []struct {
		name  string
		fault awsfault.Fault
	}{
		{"entries rejected", awsfault.Rewrite("PutEvents",
			awsfault.RejectEntries(1, "ThrottlingException", "Rate exceeded"))},
		{"internal error", awsfault.Error("PutEvents", 500, "InternalException", "oops")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAWSEnv(t)
			h := e.h
			ctx := context.Background()
			s := h.newSession(h.key, "cus_bus")
			ntID := h.networkToken(s, "4242424242424242") // 201: committed with its event
			pending, err := h.app.Store.PendingOutbox(ctx, 10)
			if err != nil || len(pending) != 1 {
				t.Fatalf("outbox: %d (%v)", len(pending), err)
			}
			eventID := pending[0].EventID

			e.busFaults.Inject(tt.fault)
			n, err := h.app.Relay.Sweep(ctx)
			e.busFaults.Clear()
			if !errors.Is(err, fault.ErrUnavailable) || n != 0 {
				t.Fatalf("sweep = %d, %v; want 0 and fault.ErrUnavailable", n, err)
			}
			if after, _ := h.app.Store.PendingOutbox(ctx, 10); len(after) != 1 ||
				after[0].EventID != eventID {
				t.Fatalf("outbox after the failed sweep: %+v", after)
			}

			if n, err := h.app.Relay.Sweep(ctx); err != nil || n != 1 {
				t.Fatalf("healthy sweep = %d, %v", n, err)
			}
			got := e.receive(1)
			copies := 0
			for _, d := range got {
				if d.event.ID != eventID {
					t.Errorf("unexpected event %s %s", d.event.ID, d.event.Type)
					continue
				}
				copies++
				data, _ := d.event.Data.(map[string]any)
				if d.event.Type != publish.NetworkTokenCreated || data["networkTokenId"] != ntID {
					t.Errorf("delivered %s for %v", d.event.Type, data["networkTokenId"])
				}
			}
			if copies == 0 {
				t.Fatal("the event was lost")
			}
			t.Logf("event delivered %d time(s) (duplicates allowed)", copies)
			if e.outboxSize() != 0 {
				t.Error("the outbox entry outlived its delivery")
			}
		})
	}
}

// A process that commits a change and dies before its sweep loses no
// event: another App on the same table publishes it.
func TestCrashBetweenWriteAndPublish(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	s := h.newSession(h.key, "cus_crash")
	ntID := h.networkToken(s, "2223003122003222") // committed; never swept by this App

	restarted := e.newApp()
	n, err := restarted.Relay.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("sweep after restart = %d, %v; want 1", n, err)
	}
	got := e.receive(1)
	if len(got) == 0 || got[0].event.Type != publish.NetworkTokenCreated {
		t.Fatalf("received %+v", got)
	}
	data, _ := got[0].event.Data.(map[string]any)
	if data["networkTokenId"] != ntID {
		t.Errorf("event for %v, want %s", data["networkTokenId"], ntID)
	}
}

// DynamoDB cancels a transaction with reason TransactionConflict when
// another transaction holds one of its items. That is a lost race, to be
// answered like any other (409, retry), not a 500.
func TestTransactionConflictIsAConflict(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	s := h.newSession(h.key, "cus_txconflict")
	ntID := h.networkToken(s, "4242424242424242")
	outbox := e.outboxSize()
	suspend := func() (int, map[string]any) {
		return h.call(h.app.Handlers.SuspendNetworkToken(), "POST", ntPath(ntID)+"/suspend", s.auth,
			ntID, nil, `{"session_id":`+quote(s.id)+`}`)
	}

	// Suspend writes the token and its event: two items.
	e.dbFaults.Inject(awsfault.Cancelled("TransactionConflict", "None").Once())
	status, body := suspend()
	if code, _ := errorOf(body); status != http.StatusConflict || code != "concurrent_update" {
		t.Errorf("suspend under a transaction conflict: %d %v, want 409 concurrent_update",
			status, body)
	}
	rec, err := h.app.Store.NetworkToken(context.Background(), ntID)
	if err != nil || rec.Status != store.StatusActive || e.outboxSize() != outbox {
		t.Fatalf("the cancelled suspend changed something: %+v %v", rec, err)
	}
	if status, body := suspend(); status != http.StatusOK || str(body, "status") != "suspended" {
		t.Fatalf("retried suspend: %d %v", status, body)
	}
}

// DynamoDB cancels a transaction with reason ThrottlingError when one of
// its items is throttled. That is an outage to retry (503 with
// Retry-After), not a 500, and nothing is written.
func TestThrottledTransactionIs503(t *testing.T) {
	e := newAWSEnv(t)
	h := e.h
	s := h.newSession(h.key, "cus_txthrottle")
	cardID := h.tokenize(s, "4242424242424242")

	// Provisioning writes the token, the card link and the event.
	e.dbFaults.Inject(awsfault.Cancelled("ThrottlingError", "None", "None").Once())
	status, body := h.provision(s, cardID, false)
	if code, _ := errorOf(body); status != http.StatusServiceUnavailable ||
		code != "service_unavailable" {
		t.Errorf("provision under a throttled transaction: %d %v, want 503", status, body)
	}
	if len(e.tokensOfCard(cardID)) != 0 || e.outboxSize() != 0 {
		t.Fatal("a cancelled transaction left a token or an event")
	}
}
