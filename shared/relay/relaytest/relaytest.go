// Package relaytest builds DynamoDB stream records from items as the SDK
// reads them, so tests can feed the relay what the table's stream would
// carry for a change they made.
package relaytest

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Record is the record a NEW_AND_OLD_IMAGES stream shows for a change of an
// item: name is INSERT, MODIFY or REMOVE; oldItem is nil for an insert and
// newItem nil for a removal. seq numbers it within the batch.
func Record(name string, seq int,
	oldItem, newItem map[string]types.AttributeValue) (events.DynamoDBEventRecord, error) {
	keyed := newItem
	if keyed == nil {
		keyed = oldItem
	}
	keys, err := Image(map[string]types.AttributeValue{"pk": keyed["pk"], "sk": keyed["sk"]})
	if err != nil {
		return events.DynamoDBEventRecord{}, err
	}
	newImage, err := Image(newItem)
	if err != nil {
		return events.DynamoDBEventRecord{}, err
	}
	oldImage, err := Image(oldItem)
	if err != nil {
		return events.DynamoDBEventRecord{}, err
	}
	return events.DynamoDBEventRecord{
		EventID: fmt.Sprintf("event-%d", seq), EventName: name, EventSource: "aws:dynamodb",
		EventVersion: "1.1", AWSRegion: "us-east-1",
		Change: events.DynamoDBStreamRecord{
			Keys: keys, NewImage: newImage, OldImage: oldImage,
			SequenceNumber: SequenceNumber(seq), StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}, nil
}

// SequenceNumber is the sequence number Record gives record seq.
func SequenceNumber(seq int) string { return fmt.Sprintf("%021d", 100000000000+seq) }

// Image converts an item to the form a stream event carries; nil stays nil.
func Image(item map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	if item == nil {
		return nil, nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(item))
	for name, av := range item {
		v, err := value(av)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

func value(av types.AttributeValue) (events.DynamoDBAttributeValue, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value), nil
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value), nil
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value), nil
	case *types.AttributeValueMemberL:
		list := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			item, err := value(e)
			if err != nil {
				return events.DynamoDBAttributeValue{}, err
			}
			list[i] = item
		}
		return events.NewListAttribute(list), nil
	case *types.AttributeValueMemberM:
		m, err := Image(v.Value)
		if err != nil {
			return events.DynamoDBAttributeValue{}, err
		}
		return events.NewMapAttribute(m), nil
	}
	return events.DynamoDBAttributeValue{}, fmt.Errorf("unsupported attribute value %T", av)
}
