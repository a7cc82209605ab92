package infra

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// orphanKeyDays is the waiting period before a key that lost the race for
// the alias is deleted; seven days is the shortest KMS allows.
const orphanKeyDays = 7

func ensureKey(ctx context.Context, client *kms.Client, alias string, res *Result) error {
	key, err := describeKey(ctx, client, alias)
	if err != nil {
		return err
	}
	if key == nil {
		if key, err = createKey(ctx, client, alias, res); err != nil {
			return err
		}
	}
	if err := checkKey(key); err != nil {
		return err
	}
	res.KeyAlias, res.KeyID, res.KeyARN = alias, aws.ToString(key.KeyId), aws.ToString(key.Arn)
	return nil
}

// describeKey returns nil and no error when no key has the alias.
func describeKey(ctx context.Context, client *kms.Client,
	alias string) (*types.KeyMetadata, error) {
	out, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &alias})
	var notFound *types.NotFoundException
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describing: %w", err)
	}
	return out.KeyMetadata, nil
}

func createKey(ctx context.Context, client *kms.Client, alias string,
	res *Result) (*types.KeyMetadata, error) {
	out, err := client.CreateKey(ctx, KeyInput())
	if err != nil {
		return nil, fmt.Errorf("creating: %w", err)
	}
	key := out.KeyMetadata
	res.created("key")

	_, err = client.CreateAlias(ctx, AliasInput(alias, aws.ToString(key.KeyId)))
	var exists *types.AlreadyExistsException
	if errors.As(err, &exists) {
		return adoptRacingKey(ctx, client, alias, key)
	}
	if err != nil {
		return nil, fmt.Errorf("creating alias: %w", err)
	}
	res.created("alias")
	return key, nil
}

// adoptRacingKey handles an alias made by someone else since describeKey:
// their key wins and ours is scheduled for deletion.
func adoptRacingKey(ctx context.Context, client *kms.Client, alias string,
	ours *types.KeyMetadata) (*types.KeyMetadata, error) {
	theirs, err := describeKey(ctx, client, alias)
	if err == nil && theirs == nil {
		err = errors.New("alias exists but names no key")
	}
	if err != nil {
		return nil, fmt.Errorf("after losing the race for the alias: %w", err)
	}

	_, err = client.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{
		KeyId:               ours.KeyId,
		PendingWindowInDays: aws.Int32(orphanKeyDays),
	})
	if err != nil {
		return nil, fmt.Errorf("deleting unused key %s: %w", aws.ToString(ours.KeyId), err)
	}
	return theirs, nil
}

// checkKey reports a key envelope encryption cannot use.
func checkKey(key *types.KeyMetadata) error {
	switch {
	case key.KeyUsage != types.KeyUsageTypeEncryptDecrypt:
		return fmt.Errorf("key %s is for %s, not ENCRYPT_DECRYPT",
			aws.ToString(key.KeyId), key.KeyUsage)
	case key.KeySpec != "" && key.KeySpec != types.KeySpecSymmetricDefault:
		return fmt.Errorf("key %s is %s, not SYMMETRIC_DEFAULT", aws.ToString(key.KeyId),
			key.KeySpec)
	case key.KeyState != types.KeyStateEnabled:
		return fmt.Errorf("key %s is %s, not Enabled", aws.ToString(key.KeyId), key.KeyState)
	}
	return nil
}
