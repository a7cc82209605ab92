package infra

import (
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/atlas-network-tokens/atlas/shared/publish"
)

// Default names of the KMS key alias, the event bus and the test queue.
const (
	DefaultKeyAlias  = "alias/atlas-network-tokens"
	DefaultEventBus  = "atlas-network-tokens"
	DefaultTestQueue = "atlas-network-tokens-test"
)

// KeyDescription is the description given to the KMS key.
const KeyDescription = "Atlas network tokens: envelope encryption of PAN-linked values"

// testTargetID is the id of the test queue among the test rule's targets.
const testTargetID = "test-queue"

// KeyInput is the CreateKey request for the service's key: a symmetric
// (AES-256-GCM inside KMS) key for encrypt and decrypt, the kind
// GenerateDataKey needs.
func KeyInput() *kms.CreateKeyInput {
	return &kms.CreateKeyInput{
		Description: aws.String(KeyDescription),
		KeySpec:     kmstypes.KeySpecSymmetricDefault,
		KeyUsage:    kmstypes.KeyUsageTypeEncryptDecrypt,
	}
}

// AliasInput is the CreateAlias request that names keyID by alias, which
// must start with "alias/".
func AliasInput(alias, keyID string) *kms.CreateAliasInput {
	return &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(keyID)}
}

// EventBusInput is the CreateEventBus request for the service's bus.
func EventBusInput(name string) *eventbridge.CreateEventBusInput {
	return &eventbridge.CreateEventBusInput{Name: aws.String(name)}
}

// TestQueueInput is the CreateQueue request for the queue tests read the bus
// through.
func TestQueueInput(name string) *sqs.CreateQueueInput {
	return &sqs.CreateQueueInput{QueueName: aws.String(name)}
}

// TestEventPattern matches every event the service publishes.
func TestEventPattern() string {
	return `{"source":["` + publish.Source + `"]}`
}

// TestRuleInput is the PutRule request for the rule, named like the test
// queue, that sends every event on bus to that queue.
func TestRuleInput(bus, rule string) *eventbridge.PutRuleInput {
	return &eventbridge.PutRuleInput{
		Name:         aws.String(rule),
		EventBusName: aws.String(bus),
		EventPattern: aws.String(TestEventPattern()),
		State:        ebtypes.RuleStateEnabled,
		Description:  aws.String("Atlas tests: every network token event to an SQS queue"),
	}
}

// TestTargetInput is the PutTargets request that points rule at the queue.
func TestTargetInput(bus, rule, queueARN string) *eventbridge.PutTargetsInput {
	return &eventbridge.PutTargetsInput{
		Rule:         aws.String(rule),
		EventBusName: aws.String(bus),
		Targets:      []ebtypes.Target{{Id: aws.String(testTargetID), Arn: aws.String(queueARN)}},
	}
}

// TestQueuePolicyInput is the SetQueueAttributes request that lets
// EventBridge deliver to the queue, for that one rule only. Real SQS drops
// the messages without it; moto does not check.
func TestQueuePolicyInput(queueURL, queueARN, ruleARN string) *sqs.SetQueueAttributesInput {
	return &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(queueURL),
		Attributes: map[string]string{
			string(sqstypes.QueueAttributeNamePolicy): queuePolicy(queueARN, ruleARN),
		},
	}
}

func queuePolicy(queueARN, ruleARN string) string {
	type statement struct {
		Sid       string
		Effect    string
		Principal map[string]string
		Action    string
		Resource  string
		Condition map[string]map[string]string
	}
	policy := struct {
		Version   string
		Statement []statement
	}{
		Version: "2012-10-17",
		Statement: []statement{{
			Sid:       "AtlasEventsToTestQueue",
			Effect:    "Allow",
			Principal: map[string]string{"Service": "events.amazonaws.com"},
			Action:    "sqs:SendMessage",
			Resource:  queueARN,
			Condition: map[string]map[string]string{"ArnEquals": {"aws:SourceArn": ruleARN}},
		}},
	}
	b, _ := json.Marshal(policy) // strings and maps of strings always encode
	return string(b)
}
