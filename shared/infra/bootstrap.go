package infra

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Names are the names of the resources Bootstrap looks for or creates.
// The test rule on the bus takes the test queue's name.
type Names struct {
	Table     string
	KeyAlias  string // "alias/…"
	EventBus  string
	TestQueue string
}

// DefaultNames returns the names a deployment uses unless told otherwise.
func DefaultNames() Names {
	return Names{
		Table:     DefaultTable,
		KeyAlias:  DefaultKeyAlias,
		EventBus:  DefaultEventBus,
		TestQueue: DefaultTestQueue,
	}
}

// Result is what Bootstrap found or made. Fields of resources left out are
// empty.
type Result struct {
	Table        string
	TableARN     string
	KeyAlias     string
	KeyID        string
	KeyARN       string
	EventBus     string
	EventBusARN  string
	TestQueueURL string
	TestQueueARN string
	TestRuleARN  string

	// Created names each change this run made ("table", "key", …), in
	// order; it is empty when everything already existed.
	Created []string
}

func (r *Result) created(what string) { r.Created = append(r.Created, what) }

// Bootstrap makes sure the service's resources exist, creating what is
// missing and leaving what exists: the table (waiting until it is ACTIVE)
// with TTL on expiresAt, the KMS key behind its alias, and the event bus;
// with withTestQueue also an SQS queue that receives every event on the bus
// through a rule. Running it again changes nothing.
//
// A resource whose name is empty is left out; the test queue needs the bus.
// An existing table or key of the wrong shape is an error, not something to
// repair. Bootstrap reaches AWS through cfg, so the standard endpoint
// settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB, …) point it at
// emulators.
//
// If another process creates the key between Bootstrap's look and its
// alias, Bootstrap uses the other key and schedules its own for deletion.
func Bootstrap(ctx context.Context, cfg aws.Config, names Names,
	withTestQueue bool) (Result, error) {
	if err := names.check(withTestQueue); err != nil {
		return Result{}, err
	}

	var res Result
	if names.Table != "" {
		if err := ensureTable(ctx, dynamodb.NewFromConfig(cfg), names.Table, &res); err != nil {
			return res, fmt.Errorf("bootstrap table %s: %w", names.Table, err)
		}
	}
	if names.KeyAlias != "" {
		if err := ensureKey(ctx, kms.NewFromConfig(cfg), names.KeyAlias, &res); err != nil {
			return res, fmt.Errorf("bootstrap key %s: %w", names.KeyAlias, err)
		}
	}
	if names.EventBus != "" {
		bus := eventbridge.NewFromConfig(cfg)
		if err := ensureBus(ctx, bus, names.EventBus, &res); err != nil {
			return res, fmt.Errorf("bootstrap event bus %s: %w", names.EventBus, err)
		}
		if withTestQueue {
			err := ensureTestQueue(ctx, sqs.NewFromConfig(cfg), bus, names, &res)
			if err != nil {
				return res, fmt.Errorf("bootstrap test queue %s: %w", names.TestQueue, err)
			}
		}
	}
	return res, nil
}

func (n Names) check(withTestQueue bool) error {
	if n.KeyAlias != "" && !strings.HasPrefix(n.KeyAlias, "alias/") {
		return fmt.Errorf("bootstrap: key alias %q does not start with alias/", n.KeyAlias)
	}
	if n.KeyAlias == "alias/" || strings.HasPrefix(n.KeyAlias, "alias/aws/") {
		return fmt.Errorf("bootstrap: key alias %q is not one a service may create", n.KeyAlias)
	}
	if withTestQueue && (n.TestQueue == "" || n.EventBus == "") {
		return errors.New("bootstrap: the test queue needs a queue name and an event bus")
	}
	return nil
}
