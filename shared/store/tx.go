package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/infra"
)

// tx gathers the writes of one TransactWriteItems call. The first encoding
// error is kept and reported by commit.
type tx struct {
	s     *Store
	items []types.TransactWriteItem
	err   error
}

func (s *Store) newTx() *tx { return &tx{s: s} }

// putNew adds a put of an item that must not exist yet, or only expired.
func (t *tx) putNew(item any) {
	t.put(item, condAbsentOrExpired,
		map[string]string{"#pk": infra.AttrPK, "#exp": infra.AttrTTL},
		map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberN{Value: t.s.nowEpoch()},
		})
}

func (t *tx) put(item any, cond string, names map[string]string, values map[string]types.AttributeValue) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		t.err = fmt.Errorf("encoding item: %w", err)
		return
	}
	t.items = append(t.items, types.TransactWriteItem{Put: &types.Put{
		TableName:                 aws.String(t.s.table),
		Item:                      av,
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}})
}

func (t *tx) update(k key, set, cond string, names map[string]string, values map[string]types.AttributeValue) {
	t.items = append(t.items, types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(t.s.table),
		Key:                       k.av(),
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}})
}

func (t *tx) commit(ctx context.Context, doing string) error {
	if t.err != nil {
		return fmt.Errorf("%s: %w", doing, t.err)
	}
	_, err := t.s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: t.items,
	})
	return conditional(err, doing)
}
