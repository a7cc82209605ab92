package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/networks"
	"github.com/atlas-network-tokens/atlas/shared/store"
)

// The store's contract, run unchanged against every backend. Each case
// gets a fresh table and clock.
var contract = []struct {
	name string
	run  func(t *testing.T, f fixture)
}{
	{"put new conflicts", contractPutNew},
	{"session expiry is absence", contractSessionExpiry},
	{"card claim, lease takeover and release", contractClaim},
	{"transaction cancellation reasons", contractCancellationReasons},
	{"create network token is one transaction", contractCreateToken},
	{"update network token guards the version", contractUpdateToken},
	{"outbox pending and delete", contractOutbox},
	{"cryptogram used once", contractCryptogram},
	{"sandbox root key created once", contractRootKey},
	{"sandbox ATC, status and replace", contractSandboxAccount},
}

func TestStoreContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := b.open(t)
			for _, c := range contract {
				t.Run(c.name, func(t *testing.T) {
					table := e.newTable(t)
					clk := newClock()
					c.run(t, fixture{
						st: store.New(e.db, table, clk.Now), clock: clk,
						db: e.db, table: table, sealer: e.sealer,
					})
				})
			}
		})
	}
}

func id(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: error = %v, want %v", what, err, kind)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func contractPutNew(t *testing.T, f fixture) {
	ctx := context.Background()
	card := store.CardToken{ID: id("tok_card_"), MerchantID: "m1", Brand: "visa",
		Sealed: []byte{1, 2, 3}}
	must(t, "first card put", f.st.PutCardToken(ctx, card))
	card.MerchantID = "m2"
	wantKind(t, "second card put", f.st.PutCardToken(ctx, card), fault.ErrConflict)
	got, err := f.st.CardToken(ctx, card.ID)
	must(t, "reading card", err)
	if got.MerchantID != "m1" {
		t.Errorf("the losing put overwrote the card: merchant %q", got.MerchantID)
	}

	hash := []byte("0123456789abcdef0123456789abcdef")
	must(t, "merchant key", f.st.PutMerchantKey(ctx, "m1", hash))
	must(t, "same merchant key again", f.st.PutMerchantKey(ctx, "m1", hash))
	wantKind(t, "key of another merchant", f.st.PutMerchantKey(ctx, "m2", hash),
		fault.ErrConflict)
	_, err = f.st.CardToken(ctx, id("tok_card_"))
	wantKind(t, "unknown card", err, fault.ErrNotFound)
}

func contractSessionExpiry(t *testing.T, f fixture) {
	ctx := context.Background()
	sess := store.Session{ID: id("sess_"), MerchantID: "m1", SecretHash: []byte("h"),
		ExpiresAt: f.clock.Now().Add(time.Hour).Unix()}
	must(t, "put session", f.st.PutSession(ctx, sess))
	// The same item again is a retried put whose answer was lost: accepted.
	must(t, "the same session again", f.st.PutSession(ctx, sess))
	other := sess
	other.MerchantID = "m2"
	wantKind(t, "another session under the same id", f.st.PutSession(ctx, other), fault.ErrConflict)
	if _, err := f.st.Session(ctx, sess.ID); err != nil {
		t.Fatalf("live session: %v", err)
	}

	f.clock.Advance(time.Hour) // expiresAt == now: gone
	_, err := f.st.Session(ctx, sess.ID)
	wantKind(t, "expired session", err, fault.ErrNotFound)
	if f.rawItem(t, "SESS#"+sess.ID, "SESS") == nil {
		t.Fatal("the item vanished; the test is meant to show reads ignore a lingering item")
	}

	// An expired leftover no longer blocks a new record under its key.
	sess.MerchantID, sess.ExpiresAt = "m2", f.clock.Now().Add(time.Hour).Unix()
	must(t, "put over an expired leftover", f.st.PutSession(ctx, sess))
	got, err := f.st.Session(ctx, sess.ID)
	must(t, "reading replacement", err)
	if got.MerchantID != "m2" {
		t.Errorf("merchant %q, want m2", got.MerchantID)
	}
}

func contractClaim(t *testing.T, f fixture) {
	ctx := context.Background()
	card := id("tok_card_")
	must(t, "claim A", f.st.ClaimCard(ctx, card, "nt_a", 30*time.Second))
	// A's put, retried by the SDK after a lost answer, finds its own claim.
	must(t, "claim A again", f.st.ClaimCard(ctx, card, "nt_a", 30*time.Second))
	wantKind(t, "claim B while A holds", f.st.ClaimCard(ctx, card, "nt_b", 30*time.Second),
		fault.ErrConflict)

	f.clock.Advance(30 * time.Second) // A's lease ran out
	must(t, "B takes over", f.st.ClaimCard(ctx, card, "nt_b", 30*time.Second))
	must(t, "A releases what is no longer its", f.st.ReleaseClaim(ctx, card, "nt_a"))
	link, err := f.st.CardLink(ctx, card)
	must(t, "reading link", err)
	if link.NetworkTokenID != "nt_b" || link.State != store.LinkClaimed {
		t.Fatalf("link = %+v, want B's claim", link)
	}

	must(t, "B releases", f.st.ReleaseClaim(ctx, card, "nt_b"))
	_, err = f.st.CardLink(ctx, card)
	wantKind(t, "link after release", err, fault.ErrNotFound)
	must(t, "C claims the free card", f.st.ClaimCard(ctx, card, "nt_c", 30*time.Second))
}

// networkToken returns a token record for card, as the service builds one.
func networkToken(card string) store.NetworkToken {
	return store.NetworkToken{
		ID: id("nt_"), MerchantID: "m1", CardTokenID: card, Network: "visa",
		Reference: id("ref-"), SealedTokenPAN: []byte("sealed"), TokenLast4: "1234",
		Status: store.StatusActive, Version: 1, CreatedAt: "2026-01-01T00:00:00Z",
	}
}

func contractCreateToken(t *testing.T, f fixture) {
	ctx := context.Background()
	card := id("tok_card_")
	claimed := networkToken(card)
	must(t, "claim", f.st.ClaimCard(ctx, card, claimed.ID, time.Minute))

	// A token whose id does not hold the claim: the whole write fails.
	intruder := networkToken(card)
	lost := f.st.NewOutboxEntry(id("evt_"), []byte(`{"n":1}`))
	wantKind(t, "create without the claim", f.st.CreateNetworkToken(ctx, intruder, lost),
		fault.ErrConflict)
	if f.rawItem(t, "NT#"+intruder.ID, "NT") != nil {
		t.Error("the token of a failed transaction was written")
	}
	if f.rawItem(t, "OUTBOX#"+lost.EventID, "OUTBOX") != nil {
		t.Error("the event of a failed transaction was written")
	}
	_, err := f.st.NetworkTokenByReference(ctx, intruder.Network, intruder.Reference)
	wantKind(t, "intruder by reference", err, fault.ErrNotFound)

	event := f.st.NewOutboxEntry(id("evt_"), []byte(`{"n":2}`))
	must(t, "create with the claim", f.st.CreateNetworkToken(ctx, claimed, event))
	link, err := f.st.CardLink(ctx, card)
	must(t, "link", err)
	if link.State != store.LinkLinked || link.NetworkTokenID != claimed.ID {
		t.Errorf("link = %+v, want linked to %s", link, claimed.ID)
	}
	got, err := f.st.NetworkTokenByReference(ctx, claimed.Network, claimed.Reference)
	must(t, "by reference through the GSI", err)
	if got.ID != claimed.ID || !bytes.Equal(got.SealedTokenPAN, claimed.SealedTokenPAN) {
		t.Errorf("by reference: %+v", got)
	}
	if f.rawItem(t, "OUTBOX#"+event.EventID, "OUTBOX") == nil {
		t.Error("the event of the committed transaction is missing")
	}
	wantKind(t, "create again", f.st.CreateNetworkToken(ctx, claimed), fault.ErrConflict)
}

func contractUpdateToken(t *testing.T, f fixture) {
	ctx := context.Background()
	card := id("tok_card_")
	nt := networkToken(card)
	must(t, "claim", f.st.ClaimCard(ctx, card, nt.ID, time.Minute))
	must(t, "create", f.st.CreateNetworkToken(ctx, nt))

	suspended := nt
	suspended.Status, suspended.Version = store.StatusSuspended, 2
	must(t, "update from version 1", f.st.UpdateNetworkToken(ctx, suspended, 1))

	stale := nt
	stale.Status, stale.Version = store.StatusDeleted, 2
	staleEvent := f.st.NewOutboxEntry(id("evt_"), []byte(`{}`))
	wantKind(t, "update from a stale version",
		f.st.UpdateNetworkToken(ctx, stale, 1, staleEvent), fault.ErrConflict)
	got, err := f.st.NetworkToken(ctx, nt.ID)
	must(t, "read", err)
	if got.Status != store.StatusSuspended || got.Version != 2 {
		t.Errorf("after the stale update: status %s version %d", got.Status, got.Version)
	}
	if f.rawItem(t, "OUTBOX#"+staleEvent.EventID, "OUTBOX") != nil {
		t.Error("the stale update's event was queued")
	}
	if link, _ := f.st.CardLink(ctx, card); link.State != store.LinkLinked {
		t.Errorf("the stale delete released the link: %+v", link)
	}

	deleted := got
	deleted.Status, deleted.Version = store.StatusDeleted, 3
	must(t, "delete from version 2", f.st.UpdateNetworkToken(ctx, deleted, 2))
	if link, _ := f.st.CardLink(ctx, card); link.State != store.LinkReleased {
		t.Errorf("deleting did not release the link: %+v", link)
	}
	must(t, "the released card is claimable", f.st.ClaimCard(ctx, card, "nt_next", time.Minute))
}

func contractOutbox(t *testing.T, f fixture) {
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		card := id("tok_card_")
		nt := networkToken(card)
		e := f.st.NewOutboxEntry(id("evt_"), []byte(`{"i":`+string(rune('0'+i))+`}`))
		ids = append(ids, e.EventID)
		must(t, "claim", f.st.ClaimCard(ctx, card, nt.ID, time.Minute))
		must(t, "create", f.st.CreateNetworkToken(ctx, nt, e))
		f.clock.Advance(time.Second) // distinct, ordered creation times
	}

	pending, err := f.st.PendingOutbox(ctx, 10)
	must(t, "pending", err)
	var got []string
	for _, e := range pending {
		got = append(got, e.EventID)
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("pending = %v, want oldest first %v", got, ids)
	}
	if pending[1].Event != `{"i":1}` || pending[1].ExpiresAt <= f.clock.Now().Unix() {
		t.Errorf("entry = %+v", pending[1])
	}
	if two, _ := f.st.PendingOutbox(ctx, 2); len(two) != 2 {
		t.Errorf("limit 2 gave %d entries", len(two))
	}

	must(t, "delete", f.st.DeleteOutbox(ctx, ids[0]))
	must(t, "delete again", f.st.DeleteOutbox(ctx, ids[0]))
	pending, err = f.st.PendingOutbox(ctx, 10)
	must(t, "pending after delete", err)
	if len(pending) != 2 || pending[0].EventID != ids[1] {
		t.Errorf("after delete: %+v", pending)
	}
}

func contractCryptogram(t *testing.T, f fixture) {
	ctx := context.Background()
	nt := id("nt_")
	expiry := f.clock.Now().Add(10 * time.Minute)
	must(t, "issue 1", f.st.PutCryptogramIssue(ctx, nt, 1, expiry))
	must(t, "issue 2", f.st.PutCryptogramIssue(ctx, nt, 2, expiry))
	wantKind(t, "issue 1 again, later", f.st.PutCryptogramIssue(ctx, nt, 1, expiry.Add(time.Minute)),
		fault.ErrConflict)
	item := f.rawItem(t, "NT#"+nt, "CRYPTO#0000000001")
	if item == nil || item["expiresAt"] == nil {
		t.Fatalf("issue record lacks expiresAt: %v", item)
	}

	// Of many concurrent uses exactly one wins.
	const racers = 10
	results := make([]error, racers)
	var wg sync.WaitGroup
	authIDs := make([]string, racers)
	for i := range racers {
		authIDs[i] = id("auth_")
		wg.Go(func() { results[i] = f.st.UseCryptogram(ctx, nt, 1, authIDs[i]) })
	}
	wg.Wait()
	wins, winner := 0, ""
	for i, err := range results {
		switch {
		case err == nil:
			wins, winner = wins+1, authIDs[i]
		case !errors.Is(err, store.ErrCryptogramUsed):
			t.Errorf("a losing use: %v, want ErrCryptogramUsed", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d uses won, want 1", wins)
	}
	// The winner's update, retried by the SDK after a lost answer, still wins.
	must(t, "the winner again", f.st.UseCryptogram(ctx, nt, 1, winner))
	wantKind(t, "use again", f.st.UseCryptogram(ctx, nt, 1, "auth_x"), store.ErrCryptogramUsed)
	wantKind(t, "never issued", f.st.UseCryptogram(ctx, nt, 9, "auth_x"),
		store.ErrCryptogramExpired)

	f.clock.Advance(10 * time.Minute)
	wantKind(t, "expired", f.st.UseCryptogram(ctx, nt, 2, "auth_x"), store.ErrCryptogramExpired)
	wantKind(t, "used stays used after expiry", f.st.UseCryptogram(ctx, nt, 1, "auth_x"),
		store.ErrCryptogramUsed)
}

func contractRootKey(t *testing.T, f fixture) {
	ctx := context.Background()
	// Racing first calls on a fresh table, from separate state values as
	// separate functions would hold, agree on one key.
	const racers = 5
	keys := make([][]byte, racers)
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { keys[i], errs[i] = f.st.SandboxState(f.sealer).RootKey(ctx) })
	}
	wg.Wait()
	for i := range racers {
		must(t, "root key", errs[i])
		if len(keys[i]) != 32 || !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("racer %d got a different or short key (%d bytes)", i, len(keys[i]))
		}
	}
	again, err := f.st.SandboxState(f.sealer).RootKey(ctx)
	must(t, "root key later", err)
	if !bytes.Equal(again, keys[0]) {
		t.Fatal("the root key changed")
	}
	item := f.rawItem(t, "SIM#ROOT", "SIM")
	if item == nil {
		t.Fatal("no root key record")
	}
	if raw := item["sealed"]; raw == nil || bytes.Contains(attrBytes(raw), keys[0]) {
		t.Error("the root key is stored in clear")
	}
}

func contractSandboxAccount(t *testing.T, f fixture) {
	ctx := context.Background()
	sb := f.st.SandboxState(f.sealer)
	acct := networks.Account{Network: networks.Visa, Reference: id("ref-"), MerchantID: "m1",
		Status: networks.StatusActive, TokenBIN: "489537", Generation: 1, ExpiryMonth: 12,
		ExpiryYear: 2030, PAR: "V0010013018294573829183746192", CardLast4: "4242"}
	must(t, "create", sb.CreateAccount(ctx, acct))
	again := acct
	again.MerchantID = "m2"
	wantKind(t, "create again", sb.CreateAccount(ctx, again), fault.ErrConflict)

	const racers = 20
	atcs := make([]uint32, racers)
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { atcs[i], errs[i] = sb.NextATC(ctx, acct.Network, acct.Reference) })
	}
	wg.Wait()
	for _, err := range errs {
		must(t, "NextATC", err)
	}
	slices.Sort(atcs)
	for i, atc := range atcs {
		if atc != uint32(i+1) {
			t.Fatalf("ATCs = %v, want 1..%d each once", atcs, racers)
		}
	}

	active := []networks.Status{networks.StatusActive}
	must(t, "suspend", sb.SetStatus(ctx, acct.Network, acct.Reference, active,
		networks.StatusSuspended))
	_, err := sb.NextATC(ctx, acct.Network, acct.Reference)
	wantKind(t, "NextATC while suspended", err, fault.ErrConflict)
	wantKind(t, "suspend from active again", sb.SetStatus(ctx, acct.Network, acct.Reference,
		active, networks.StatusSuspended), fault.ErrConflict)
	wantKind(t, "status of an unknown account", sb.SetStatus(ctx, acct.Network, id("ref-"),
		active, networks.StatusSuspended), fault.ErrNotFound)

	prev, err := sb.Account(ctx, acct.Network, acct.Reference)
	must(t, "read", err)
	next := prev
	next.Status, next.Generation, next.ExpiryYear = networks.StatusActive, 2, 2033
	must(t, "replace", sb.ReplaceAccount(ctx, prev, next))
	wantKind(t, "replace from stale", sb.ReplaceAccount(ctx, prev, next), fault.ErrConflict)
	gone := prev
	gone.Reference = id("ref-")
	wantKind(t, "replace unknown", sb.ReplaceAccount(ctx, gone, next), fault.ErrNotFound)

	got, err := sb.Account(ctx, acct.Network, acct.Reference)
	must(t, "read after replace", err)
	want := next
	want.ATC = racers // ReplaceAccount leaves the counter alone
	if got != want {
		t.Errorf("account = %+v\nwant      %+v", got, want)
	}
}
