package networks

import (
	"context"
	"crypto/rand"
	"math"
	"slices"
	"sync"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// memState is a State in a map behind one mutex, for unit tests. Its
// conditions mirror the ones the DynamoDB store writes.
type memState struct {
	mu       sync.Mutex
	root     []byte
	accounts map[string]Account
	calls    int // State calls, to show which paths skip the State
}

func newMemState() *memState {
	return &memState{accounts: map[string]Account{}}
}

func memKey(network Network, reference string) string {
	return string(network) + "\x00" + reference
}

func (m *memState) RootKey(ctx context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.root == nil {
		m.root = make([]byte, rootKeyLength)
		rand.Read(m.root)
	}
	return slices.Clone(m.root), nil
}

func (m *memState) CreateAccount(ctx context.Context, acct Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	k := memKey(acct.Network, acct.Reference)
	if _, ok := m.accounts[k]; ok {
		return fault.New(fault.ErrConflict, "exists", "account exists")
	}
	m.accounts[k] = acct
	return nil
}

func (m *memState) Account(ctx context.Context, network Network,
	reference string) (Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	acct, ok := m.accounts[memKey(network, reference)]
	if !ok {
		return Account{}, fault.ErrNotFound
	}
	return acct, nil
}

func (m *memState) NextATC(ctx context.Context, network Network, reference string) (uint32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	k := memKey(network, reference)
	acct, ok := m.accounts[k]
	switch {
	case !ok:
		return 0, fault.ErrNotFound
	case acct.Status != StatusActive, acct.ATC == math.MaxUint32:
		return 0, fault.ErrConflict
	}
	acct.ATC++
	m.accounts[k] = acct
	return acct.ATC, nil
}

func (m *memState) SetStatus(ctx context.Context, network Network, reference string,
	from []Status, to Status) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	k := memKey(network, reference)
	acct, ok := m.accounts[k]
	switch {
	case !ok:
		return fault.ErrNotFound
	case !slices.Contains(from, acct.Status):
		return fault.ErrConflict
	}
	acct.Status = to
	m.accounts[k] = acct
	return nil
}

// snapshot returns a copy of every stored account.
func (m *memState) ReplaceAccount(ctx context.Context, prev, next Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	k := memKey(prev.Network, prev.Reference)
	cur, ok := m.accounts[k]
	if !ok {
		return fault.ErrNotFound
	}
	if cur.Status != prev.Status || cur.Generation != prev.Generation ||
		cur.ExpiryMonth != prev.ExpiryMonth || cur.ExpiryYear != prev.ExpiryYear ||
		cur.CardLast4 != prev.CardLast4 {
		return fault.ErrConflict
	}
	cur.Status, cur.Generation = next.Status, next.Generation
	cur.ExpiryMonth, cur.ExpiryYear, cur.CardLast4 = next.ExpiryMonth, next.ExpiryYear, next.CardLast4
	m.accounts[k] = cur
	return nil
}

func (m *memState) snapshot() []Account {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Account, 0, len(m.accounts))
	for _, a := range m.accounts {
		out = append(out, a)
	}
	return out
}
