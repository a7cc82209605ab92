package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/infra"
)

// CryptogramIssue records that a cryptogram with this ATC was issued for a
// token, and until when it may be used. The cryptogram itself is never
// stored: the network recomputes it from the token's key and the ATC.
type CryptogramIssue struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ATC       uint32 `dynamodbav:"atc"`
	Used      bool   `dynamodbav:"used"`
	UsedBy    string `dynamodbav:"usedBy,omitempty"`
	IssuedAt  string `dynamodbav:"issuedAt"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

func cryptogramKey(ntID string, atc uint32) key {
	return key{PK: prefixNetToken + ntID, SK: fmt.Sprintf("%s%010d", prefixCryptogram, atc)}
}

// PutCryptogramIssue records an issued cryptogram that expires at expiresAt.
func (s *Store) PutCryptogramIssue(ctx context.Context, ntID string, atc uint32, expiresAt time.Time) error {
	k := cryptogramKey(ntID, atc)
	return s.putNew(ctx, CryptogramIssue{
		PK: k.PK, SK: k.SK, ATC: atc,
		IssuedAt: s.now().UTC().Format(time.RFC3339), ExpiresAt: expiresAt.Unix(),
	})
}

// Cryptogram use outcomes that are not errors of the store.
var (
	ErrCryptogramUsed    = errors.New("cryptogram already used")
	ErrCryptogramExpired = errors.New("cryptogram expired")
)

// UseCryptogram marks an issued cryptogram used, once: of any number of
// concurrent calls for one cryptogram, exactly one succeeds. The others get
// ErrCryptogramUsed; a cryptogram past its expiry, or never recorded, gets
// ErrCryptogramExpired.
func (s *Store) UseCryptogram(ctx context.Context, ntID string, atc uint32, usedBy string) error {
	k := cryptogramKey(ntID, atc)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 k.av(),
		UpdateExpression:    aws.String("SET #used = :true, #by = :by"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #used = :false AND #exp > :now"),
		ExpressionAttributeNames: map[string]string{
			"#pk": infra.AttrPK, "#used": "used", "#by": "usedBy", "#exp": infra.AttrTTL,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":true":  &types.AttributeValueMemberBOOL{Value: true},
			":false": &types.AttributeValueMemberBOOL{Value: false},
			":by":    &types.AttributeValueMemberS{Value: usedBy},
			":now":   &types.AttributeValueMemberN{Value: s.nowEpoch()},
		},
	})
	err = conditional(err, "using cryptogram")
	if !errors.Is(err, fault.ErrConflict) {
		return err
	}
	var rec CryptogramIssue
	if getErr := s.get(ctx, k, &rec); getErr != nil {
		if errors.Is(getErr, fault.ErrNotFound) {
			return ErrCryptogramExpired
		}
		return getErr
	}
	if rec.Used && rec.UsedBy == usedBy {
		return nil // our own update, retried by the SDK after its answer was lost
	}
	if rec.Used {
		return ErrCryptogramUsed
	}
	return ErrCryptogramExpired
}
