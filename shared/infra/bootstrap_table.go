package infra

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tableWait bounds the wait for a new table to become ACTIVE.
const tableWait = 5 * time.Minute

func ensureTable(ctx context.Context, db *dynamodb.Client, name string, res *Result) error {
	desc, err := describeTable(ctx, db, name)
	if err != nil {
		return err
	}
	if desc == nil {
		if err := createTable(ctx, db, name, res); err != nil {
			return err
		}
	}

	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
	})
	out, err := waiter.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: &name},
		tableWait)
	if err != nil {
		return fmt.Errorf("waiting for ACTIVE: %w", err)
	}
	if err := checkTable(out.Table); err != nil {
		return err
	}
	res.Table, res.TableARN = name, aws.ToString(out.Table.TableArn)

	return ensureTTL(ctx, db, name, res)
}

// describeTable returns nil and no error when the table does not exist.
func describeTable(ctx context.Context, db *dynamodb.Client,
	name string) (*types.TableDescription, error) {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describing: %w", err)
	}
	return out.Table, nil
}

func createTable(ctx context.Context, db *dynamodb.Client, name string, res *Result) error {
	_, err := db.CreateTable(ctx, TableInput(name))
	var inUse *types.ResourceInUseException
	switch {
	case errors.As(err, &inUse): // created meanwhile by someone else
		return nil
	case err != nil:
		return fmt.Errorf("creating: %w", err)
	}
	res.created("table")
	return nil
}

// checkTable reports an existing table whose keys, index or stream differ
// from TableInput's, which the service's queries would trip over.
func checkTable(t *types.TableDescription) error {
	want := TableInput(aws.ToString(t.TableName))
	if !sameKeys(t.KeySchema, want.KeySchema) {
		return errors.New("table exists with another key schema")
	}
	wantIndex := want.GlobalSecondaryIndexes[0]
	found := slices.ContainsFunc(t.GlobalSecondaryIndexes,
		func(g types.GlobalSecondaryIndexDescription) bool {
			return aws.ToString(g.IndexName) == aws.ToString(wantIndex.IndexName) &&
				sameKeys(g.KeySchema, wantIndex.KeySchema)
		})
	if !found {
		return fmt.Errorf("table exists without index %s", aws.ToString(wantIndex.IndexName))
	}
	stream := t.StreamSpecification
	if stream == nil || !aws.ToBool(stream.StreamEnabled) ||
		stream.StreamViewType != want.StreamSpecification.StreamViewType {
		return errors.New("table exists without a stream of new and old images")
	}
	return nil
}

func sameKeys(got, want []types.KeySchemaElement) bool {
	return slices.EqualFunc(got, want, func(a, b types.KeySchemaElement) bool {
		return aws.ToString(a.AttributeName) == aws.ToString(b.AttributeName) &&
			a.KeyType == b.KeyType
	})
}

func ensureTTL(ctx context.Context, db *dynamodb.Client, name string, res *Result) error {
	out, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &name})
	if err != nil {
		return fmt.Errorf("describing time to live: %w", err)
	}
	ttl := out.TimeToLiveDescription
	status := types.TimeToLiveStatusDisabled
	if ttl != nil {
		status = ttl.TimeToLiveStatus
	}

	switch status {
	case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
		if attr := aws.ToString(ttl.AttributeName); attr != AttrTTL {
			return fmt.Errorf("time to live is on %q, not %q", attr, AttrTTL)
		}
		return nil
	case types.TimeToLiveStatusDisabling:
		return errors.New("time to live is being disabled; run again once it is off")
	}

	if _, err := db.UpdateTimeToLive(ctx, TTLInput(name)); err != nil {
		return fmt.Errorf("enabling time to live: %w", err)
	}
	res.created("time to live")
	return nil
}
