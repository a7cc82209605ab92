package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/awsfault"
	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// contractCancellationReasons holds the emulators to what DynamoDB does
// and the store relies on: a cancelled transaction lists one reason per
// item, ConditionalCheckFailed on the item whose condition failed and None
// on the others, and writes nothing. (minidyn and moto agree on the codes;
// only the error message differs.)
func contractCancellationReasons(t *testing.T, f fixture) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	_, err := f.db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &f.table,
				Item: map[string]types.AttributeValue{"pk": s("put"), "sk": s("x")}}},
			{Update: &types.Update{TableName: &f.table,
				Key:                       map[string]types.AttributeValue{"pk": s("absent"), "sk": s("x")},
				UpdateExpression:          aws.String("SET v = :v"),
				ConditionExpression:       aws.String("attribute_exists(pk)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("1")}}},
		},
	})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("error = %v, want TransactionCanceledException", err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if !slices.Equal(codes, []string{"None", "ConditionalCheckFailed"}) {
		t.Errorf("reasons = %q, want [None ConditionalCheckFailed]", codes)
	}
	if f.rawItem(t, "put", "x") != nil {
		t.Error("the put of a cancelled transaction was written")
	}
}

// How the store reads a cancelled transaction it did not cause itself:
// DynamoDB's reasons injected on minidyn with awsfault. A transaction
// another transaction got in the way of is a lost race like a failed
// condition (fault.ErrConflict); a throttled one is not.
func TestCancelledTransactionReasons(t *testing.T) {
	tests := []struct {
		reasons  []string
		conflict bool
	}{
		{[]string{"None", "ConditionalCheckFailed"}, true},
		{[]string{"TransactionConflict", "None"}, true},
		{[]string{"None", "ThrottlingError"}, false},
		{[]string{"ValidationError", "None"}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.reasons, ","), func(t *testing.T) {
			faults := awsfault.New(nil)
			f := faultyMinidyn(t, faults)
			ctx := context.Background()
			card := id("tok_card_")
			nt := networkToken(card)
			must(t, "claim", f.st.ClaimCard(ctx, card, nt.ID, time.Minute))

			faults.Inject(awsfault.Cancelled(tt.reasons...).Once())
			err := f.st.CreateNetworkToken(ctx, nt)
			if got := errors.Is(err, fault.ErrConflict); got != tt.conflict || err == nil {
				t.Errorf("error = %v; conflict %v, want %v", err, got, tt.conflict)
			}
			if f.rawItem(t, "NT#"+nt.ID, "NT") != nil {
				t.Error("a cancelled transaction wrote the token")
			}
		})
	}
}
