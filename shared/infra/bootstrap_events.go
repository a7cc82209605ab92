package infra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func ensureBus(ctx context.Context, bus *eventbridge.Client, name string, res *Result) error {
	arn, err := describeBus(ctx, bus, name)
	if err != nil {
		return err
	}
	if arn == "" {
		if arn, err = createBus(ctx, bus, name, res); err != nil {
			return err
		}
	}
	res.EventBus, res.EventBusARN = name, arn
	return nil
}

func createBus(ctx context.Context, bus *eventbridge.Client, name string,
	res *Result) (string, error) {
	out, err := bus.CreateEventBus(ctx, EventBusInput(name))
	var exists *ebtypes.ResourceAlreadyExistsException
	switch {
	case errors.As(err, &exists): // created meanwhile by someone else
		return describeBus(ctx, bus, name)
	case err != nil:
		return "", fmt.Errorf("creating: %w", err)
	}
	res.created("event bus")
	return aws.ToString(out.EventBusArn), nil
}

// describeBus returns the bus's ARN, or "" and no error when there is none.
func describeBus(ctx context.Context, bus *eventbridge.Client, name string) (string, error) {
	out, err := bus.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: &name})
	var notFound *ebtypes.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("describing: %w", err)
	}
	return aws.ToString(out.Arn), nil
}

// ensureTestQueue makes the queue, the rule that feeds it every event of the
// bus, the rule's target and the queue policy that lets the rule deliver.
func ensureTestQueue(ctx context.Context, queues *sqs.Client, bus *eventbridge.Client,
	names Names, res *Result) error {
	url, arn, err := ensureQueue(ctx, queues, names.TestQueue, res)
	if err != nil {
		return err
	}
	res.TestQueueURL, res.TestQueueARN = url, arn

	rule := names.TestQueue
	ruleARN, err := ensureRule(ctx, bus, names.EventBus, rule, res)
	if err != nil {
		return err
	}
	res.TestRuleARN = ruleARN

	if err := ensureTarget(ctx, bus, names.EventBus, rule, arn, res); err != nil {
		return err
	}
	return ensureQueuePolicy(ctx, queues, url, arn, ruleARN, res)
}

func ensureQueue(ctx context.Context, queues *sqs.Client, name string,
	res *Result) (url, arn string, err error) {
	found, err := queues.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &name})
	var notFound *sqstypes.QueueDoesNotExist
	switch {
	case errors.As(err, &notFound):
		// CreateQueue with the same attributes returns the existing queue, so
		// a queue created meanwhile by someone else is no failure.
		out, err := queues.CreateQueue(ctx, TestQueueInput(name))
		if err != nil {
			return "", "", fmt.Errorf("creating: %w", err)
		}
		url = aws.ToString(out.QueueUrl)
		res.created("test queue")
	case err != nil:
		return "", "", fmt.Errorf("looking up: %w", err)
	default:
		url = aws.ToString(found.QueueUrl)
	}

	attrs, err := queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("reading ARN: %w", err)
	}
	return url, attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

// ensureRule creates the rule, or puts it back in shape when its pattern or
// state has drifted, and returns its ARN.
func ensureRule(ctx context.Context, bus *eventbridge.Client, busName, rule string,
	res *Result) (string, error) {
	out, err := bus.DescribeRule(ctx, &eventbridge.DescribeRuleInput{
		Name: &rule, EventBusName: &busName,
	})
	var notFound *ebtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
	case err != nil:
		return "", fmt.Errorf("describing rule: %w", err)
	case out.State == ebtypes.RuleStateEnabled &&
		sameJSON(aws.ToString(out.EventPattern), TestEventPattern()):
		return aws.ToString(out.Arn), nil
	}

	put, err := bus.PutRule(ctx, TestRuleInput(busName, rule))
	if err != nil {
		return "", fmt.Errorf("putting rule: %w", err)
	}
	res.created("test rule")
	return aws.ToString(put.RuleArn), nil
}

func ensureTarget(ctx context.Context, bus *eventbridge.Client, busName, rule,
	queueARN string, res *Result) error {
	out, err := bus.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{
		Rule: &rule, EventBusName: &busName,
	})
	if err != nil {
		return fmt.Errorf("listing targets: %w", err)
	}
	if slices.ContainsFunc(out.Targets, func(t ebtypes.Target) bool {
		return aws.ToString(t.Arn) == queueARN
	}) {
		return nil
	}

	put, err := bus.PutTargets(ctx, TestTargetInput(busName, rule, queueARN))
	if err != nil {
		return fmt.Errorf("putting target: %w", err)
	}
	if put.FailedEntryCount > 0 {
		failed := put.FailedEntries[0]
		return fmt.Errorf("putting target: %s: %s", aws.ToString(failed.ErrorCode),
			aws.ToString(failed.ErrorMessage))
	}
	res.created("test rule target")
	return nil
}

func ensureQueuePolicy(ctx context.Context, queues *sqs.Client, url, queueARN,
	ruleARN string, res *Result) error {
	policy := string(sqstypes.QueueAttributeNamePolicy)
	out, err := queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNamePolicy},
	})
	if err != nil {
		return fmt.Errorf("reading policy: %w", err)
	}
	if sameJSON(out.Attributes[policy], queuePolicy(queueARN, ruleARN)) {
		return nil
	}

	if _, err := queues.SetQueueAttributes(ctx,
		TestQueuePolicyInput(url, queueARN, ruleARN)); err != nil {
		return fmt.Errorf("setting policy: %w", err)
	}
	res.created("test queue policy")
	return nil
}

// sameJSON reports whether two JSON documents hold the same values, however
// they are spaced or ordered. Text that is not JSON is never the same.
func sameJSON(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
