package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/envelope"
	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/infra"
	"github.com/atlas-network-tokens/atlas/shared/networks"
)

// Sealer is the envelope encryption the sandbox state needs for its root key.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, ec envelope.Context) ([]byte, error)
	Open(ctx context.Context, sealed []byte, ec envelope.Context) ([]byte, error)
}

// SandboxState keeps the sandbox card networks' memory in the table, so
// that every function sees the same tokens. It implements networks.State.
type SandboxState struct {
	s      *Store
	sealer Sealer
}

// SandboxState returns the networks.State on this store. The root key is
// sealed with sealer.
func (s *Store) SandboxState(sealer Sealer) *SandboxState {
	return &SandboxState{s: s, sealer: sealer}
}

var _ networks.State = (*SandboxState)(nil)

var rootKeyContext = envelope.Context{
	Merchant: "atlas-sandbox", Record: prefixSim + "ROOT", Purpose: "sandbox_root_key",
}

type sealedRootKey struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Sealed []byte `dynamodbav:"sealed"`
}

// RootKey returns the sandbox root key, creating it on first use. Two
// racing first calls agree: the loser of the conditional put reads the
// winner's key.
func (st *SandboxState) RootKey(ctx context.Context) ([]byte, error) {
	k := key{PK: prefixSim + "ROOT", SK: "SIM"}
	for range 2 {
		var rec sealedRootKey
		err := st.s.get(ctx, k, &rec)
		if err == nil {
			return st.sealer.Open(ctx, rec.Sealed, rootKeyContext)
		}
		if !errors.Is(err, fault.ErrNotFound) {
			return nil, fmt.Errorf("reading root key: %w", err)
		}
		if err := st.createRootKey(ctx, k); err != nil && !errors.Is(err, fault.ErrConflict) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("root key vanished after creation: %w", fault.ErrConflict)
}

func (st *SandboxState) createRootKey(ctx context.Context, k key) error {
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	sealed, err := st.sealer.Seal(ctx, root, rootKeyContext)
	clear(root)
	if err != nil {
		return fmt.Errorf("sealing root key: %w", err)
	}
	return st.s.putNew(ctx, sealedRootKey{PK: k.PK, SK: k.SK, Sealed: sealed})
}

// simAccount is a networks.Account as stored. It holds no PAN.
type simAccount struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Network     string `dynamodbav:"network"`
	Reference   string `dynamodbav:"reference"`
	MerchantID  string `dynamodbav:"merchantId"`
	Status      string `dynamodbav:"status"`
	TokenBIN    string `dynamodbav:"tokenBin"`
	Generation  uint32 `dynamodbav:"generation"`
	ExpiryMonth int    `dynamodbav:"expiryMonth"`
	ExpiryYear  int    `dynamodbav:"expiryYear"`
	PAR         string `dynamodbav:"par"`
	CardLast4   string `dynamodbav:"cardLast4"`
	ATC         uint32 `dynamodbav:"atc"`
}

func simKey(network networks.Network, ref string) key {
	return key{PK: prefixSim + string(network) + "#" + ref, SK: "SIM"}
}

// CreateAccount stores a new sandbox account; an existing one is a conflict.
func (st *SandboxState) CreateAccount(ctx context.Context, a networks.Account) error {
	k := simKey(a.Network, a.Reference)
	return st.s.putNew(ctx, simAccount{
		PK: k.PK, SK: k.SK, Network: string(a.Network), Reference: a.Reference,
		MerchantID: a.MerchantID, Status: string(a.Status), TokenBIN: a.TokenBIN,
		Generation: a.Generation, ExpiryMonth: a.ExpiryMonth, ExpiryYear: a.ExpiryYear,
		PAR: a.PAR, CardLast4: a.CardLast4, ATC: a.ATC,
	})
}

// Account reads a sandbox account, or fault.ErrNotFound.
func (st *SandboxState) Account(ctx context.Context, network networks.Network,
	ref string) (networks.Account, error) {
	var a simAccount
	if err := st.s.get(ctx, simKey(network, ref), &a); err != nil {
		return networks.Account{}, fmt.Errorf("sandbox account: %w", err)
	}
	return a.account(), nil
}

func (a simAccount) account() networks.Account {
	return networks.Account{
		Network: networks.Network(a.Network), Reference: a.Reference, MerchantID: a.MerchantID,
		Status: networks.Status(a.Status), TokenBIN: a.TokenBIN, Generation: a.Generation,
		ExpiryMonth: a.ExpiryMonth, ExpiryYear: a.ExpiryYear, PAR: a.PAR,
		CardLast4: a.CardLast4, ATC: a.ATC,
	}
}

// NextATC raises the account's counter by one, only while it is active.
func (st *SandboxState) NextATC(ctx context.Context, network networks.Network, ref string) (uint32, error) {
	res, err := st.s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(st.s.table),
		Key:                 simKey(network, ref).av(),
		UpdateExpression:    aws.String("SET #atc = #atc + :one"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #status = :active AND #atc < :max"),
		ExpressionAttributeNames: map[string]string{
			"#pk": infra.AttrPK, "#atc": "atc", "#status": "status",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":    &types.AttributeValueMemberN{Value: "1"},
			":active": &types.AttributeValueMemberS{Value: string(networks.StatusActive)},
			":max":    &types.AttributeValueMemberN{Value: strconv.FormatUint(1<<32-1, 10)},
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err := conditional(err, "raising ATC"); err != nil {
		return 0, st.absentOr(ctx, network, ref, err)
	}
	var out struct {
		ATC uint32 `dynamodbav:"atc"`
	}
	if err := attributevalue.UnmarshalMap(res.Attributes, &out); err != nil {
		return 0, fmt.Errorf("decoding ATC: %w", err)
	}
	return out.ATC, nil
}

// SetStatus moves the account to `to` if its status is one of from.
func (st *SandboxState) SetStatus(ctx context.Context, network networks.Network, ref string,
	from []networks.Status, to networks.Status) error {
	values := map[string]types.AttributeValue{
		":to": &types.AttributeValueMemberS{Value: string(to)},
	}
	cond := ""
	for i, f := range from {
		name := ":from" + strconv.Itoa(i)
		values[name] = &types.AttributeValueMemberS{Value: string(f)}
		if cond != "" {
			cond += ", "
		}
		cond += name
	}
	if cond == "" {
		return fmt.Errorf("setting sandbox status: no allowed from-status: %w", fault.ErrConflict)
	}
	_, err := st.s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(st.s.table),
		Key:                 simKey(network, ref).av(),
		UpdateExpression:    aws.String("SET #status = :to"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #status IN (" + cond + ")"),
		ExpressionAttributeNames: map[string]string{
			"#pk": infra.AttrPK, "#status": "status",
		},
		ExpressionAttributeValues: values,
	})
	if err := conditional(err, "setting sandbox status"); err != nil {
		return st.absentOr(ctx, network, ref, err)
	}
	return nil
}

// absentOr turns a failed condition on a missing account into NotFound.
func (st *SandboxState) absentOr(ctx context.Context, network networks.Network, ref string, err error) error {
	if !errors.Is(err, fault.ErrConflict) {
		return err
	}
	if _, getErr := st.Account(ctx, network, ref); errors.Is(getErr, fault.ErrNotFound) {
		return getErr
	}
	return err
}

// ReplaceAccount overwrites an account's lifecycle fields if they still
// hold prev's values. The ATC is left alone.
func (st *SandboxState) ReplaceAccount(ctx context.Context, prev, next networks.Account) error {
	n := func(v int) types.AttributeValue { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	_, err := st.s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(st.s.table),
		Key:       simKey(prev.Network, prev.Reference).av(),
		UpdateExpression: aws.String("SET #status = :status, #gen = :gen, #em = :em, " +
			"#ey = :ey, #last4 = :last4"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #status = :pstatus AND " +
			"#gen = :pgen AND #em = :pem AND #ey = :pey AND #last4 = :plast4"),
		ExpressionAttributeNames: map[string]string{
			"#pk": infra.AttrPK, "#status": "status", "#gen": "generation",
			"#em": "expiryMonth", "#ey": "expiryYear", "#last4": "cardLast4",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status": str(string(next.Status)), ":gen": n(int(next.Generation)),
			":em": n(next.ExpiryMonth), ":ey": n(next.ExpiryYear), ":last4": str(next.CardLast4),
			":pstatus": str(string(prev.Status)), ":pgen": n(int(prev.Generation)),
			":pem": n(prev.ExpiryMonth), ":pey": n(prev.ExpiryYear), ":plast4": str(prev.CardLast4),
		},
	})
	if err := conditional(err, "replacing sandbox account"); err != nil {
		return st.absentOr(ctx, prev.Network, prev.Reference, err)
	}
	return nil
}
