// Package store keeps the service's records in one DynamoDB table.
//
// Every item has string keys pk and sk. Items that expire carry expiresAt
// (epoch seconds), the table's TTL attribute. DynamoDB removes expired items
// lazily, so every read here treats an item whose expiresAt has passed as
// absent, and every conditional write that depends on an item's existence
// says so in its condition. State changes are conditional writes: a write
// that lost a race fails with fault.ErrConflict instead of overwriting.
package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/infra"
)

// DynamoDB is the part of *dynamodb.Client the store calls.
type DynamoDB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput,
		...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput,
		...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput,
		...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store reads and writes the service's records.
type Store struct {
	db    DynamoDB
	table string
	now   func() time.Time
}

// New returns a Store on the named table. now is the clock every expiry
// check uses; pass time.Now outside tests.
func New(db DynamoDB, table string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, table: table, now: now}
}

type key struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
}

func (k key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		infra.AttrPK: &types.AttributeValueMemberS{Value: k.PK},
		infra.AttrSK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// nowEpoch is the store clock in epoch seconds, as expiresAt holds it.
func (s *Store) nowEpoch() string { return strconv.FormatInt(s.now().Unix(), 10) }

// live reports whether an item with this expiresAt is still there as far as
// readers are concerned. Zero means the item does not expire.
func (s *Store) live(expiresAt int64) bool {
	return expiresAt == 0 || expiresAt > s.now().Unix()
}

// get loads one item into out. It returns fault.ErrNotFound when the item is
// absent; expiry is the caller's check because only the caller knows the type.
func (s *Store) get(ctx context.Context, k key, out any) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            k.av(),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("getting item: %w", err)
	}
	if len(res.Item) == 0 {
		return fault.ErrNotFound
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return fmt.Errorf("decoding item: %w", err)
	}
	return nil
}

// putNew writes an item that must not exist yet (or exists only as an
// expired leftover).
func (s *Store) putNew(ctx context.Context, item any) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("encoding item: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                av,
		ConditionExpression: aws.String(condAbsentOrExpired),
		ExpressionAttributeNames: map[string]string{
			"#pk": infra.AttrPK, "#exp": infra.AttrTTL,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberN{Value: s.nowEpoch()},
		},
	})
	err = conditional(err, "putting item")
	if errors.Is(err, fault.ErrConflict) && s.alreadyWritten(ctx, av) {
		// The SDK retried a put whose first attempt had landed (its answer
		// was lost on the way back): the item there is ours.
		return nil
	}
	return err
}

// alreadyWritten reports whether the table holds exactly this item.
func (s *Store) alreadyWritten(ctx context.Context, av map[string]types.AttributeValue) bool {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{infra.AttrPK: av[infra.AttrPK], infra.AttrSK: av[infra.AttrSK]},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || len(res.Item) != len(av) {
		return false
	}
	var stored, wanted any
	if attributevalue.UnmarshalMap(res.Item, &stored) != nil || attributevalue.UnmarshalMap(av, &wanted) != nil {
		return false
	}
	return reflect.DeepEqual(stored, wanted)
}

// condAbsentOrExpired lets a write replace an item only when there is none,
// or when the one there has expired but not yet been swept by TTL.
const condAbsentOrExpired = "attribute_not_exists(#pk) OR " +
	"(attribute_exists(#exp) AND #exp <= :now)"

// conditional maps a failed condition to fault.ErrConflict and wraps anything
// else with context.
func conditional(err error, doing string) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%s: %w", doing, fault.ErrConflict)
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		if kind := cancellationKind(tce); kind != nil {
			return fmt.Errorf("%s: %w: %w", doing, kind, err)
		}
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// cancellationKind says what a cancelled transaction means for the caller:
// throttling is an outage worth retrying (fault.ErrUnavailable); a failed
// condition or a clash with another transaction is a lost race
// (fault.ErrConflict). A cancellation without reasons is taken as a lost
// race too: retrying it is safe. Anything else is left as it is.
func cancellationKind(tce *types.TransactionCanceledException) error {
	conflict := len(tce.CancellationReasons) == 0
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			return fault.ErrUnavailable
		case "ConditionalCheckFailed", "TransactionConflict":
			conflict = true
		}
	}
	if conflict {
		return fault.ErrConflict
	}
	return nil
}
