package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/infra"
)

// Webhook endpoints live under their merchant's partition, so that one
// Query on the merchant lists them all.
const (
	prefixMerchant = "MERCHANT#"
	prefixWebhook  = "WEBHOOK#"
)

// WebhookEndpoint is a URL a merchant registered for events. The signing
// secret is only in SealedSecret; it is sealed, not hashed, because the
// dispatcher needs it to sign. An empty Events list means every type.
type WebhookEndpoint struct {
	PK           string   `dynamodbav:"pk"`
	SK           string   `dynamodbav:"sk"`
	ID           string   `dynamodbav:"id"`
	MerchantID   string   `dynamodbav:"merchantId"`
	URL          string   `dynamodbav:"url"`
	Events       []string `dynamodbav:"events,omitempty"`
	SealedSecret []byte   `dynamodbav:"sealedSecret"`
	CreatedAt    string   `dynamodbav:"createdAt"`
}

func webhookKey(merchantID, id string) key {
	return key{PK: prefixMerchant + merchantID, SK: prefixWebhook + id}
}

// PutWebhookEndpoint stores a new endpoint; an existing id is a conflict.
func (s *Store) PutWebhookEndpoint(ctx context.Context, we WebhookEndpoint) error {
	k := webhookKey(we.MerchantID, we.ID)
	we.PK, we.SK = k.PK, k.SK
	return s.putNew(ctx, we)
}

// WebhookEndpoints lists a merchant's endpoints in id order.
func (s *Store) WebhookEndpoints(ctx context.Context, merchantID string) ([]WebhookEndpoint, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("#pk = :pk AND begins_with(#sk, :sk)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": infra.AttrPK, "#sk": infra.AttrSK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: prefixMerchant + merchantID},
			":sk": &types.AttributeValueMemberS{Value: prefixWebhook},
		},
		ConsistentRead: aws.Bool(true),
	}
	var all []WebhookEndpoint
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("querying webhook endpoints: %w", err)
		}
		var page []WebhookEndpoint
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &page); err != nil {
			return nil, fmt.Errorf("decoding webhook endpoints: %w", err)
		}
		all = append(all, page...)
		if len(res.LastEvaluatedKey) == 0 {
			return all, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// DeleteWebhookEndpoint removes an endpoint, or returns fault.ErrNotFound
// when the merchant has none with this id.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, merchantID, id string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      webhookKey(merchantID, id).av(),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": infra.AttrPK},
	})
	if err := conditional(err, "deleting webhook endpoint"); err != nil {
		if isConflict(err) {
			return fmt.Errorf("webhook endpoint: %w", fault.ErrNotFound)
		}
		return err
	}
	return nil
}
