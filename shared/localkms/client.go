package localkms

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Client returns a KMS client for this Server: the SDK's own client with the
// Server's URL as BaseEndpoint, its region, and static placeholder credentials
// (local-kms checks no signatures). It reads no environment or shared config.
func (s *Server) Client() *kms.Client {
	return kms.New(kms.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("localkms", "localkms", ""),
	})
}

// CreateKey creates a symmetric encryption key (SYMMETRIC_DEFAULT,
// ENCRYPT_DECRYPT) and returns its key id. When alias is not empty it also
// points that alias ("alias/...") at the key; the alias then works wherever
// the key id does, as a service's configured key would.
func (s *Server) CreateKey(ctx context.Context, alias string) (keyID string, err error) {
	if alias != "" && !strings.HasPrefix(alias, "alias/") {
		return "", errors.New("localkms: alias must start with alias/")
	}
	client := s.Client()

	created, err := client.CreateKey(ctx, &kms.CreateKeyInput{
		KeySpec:     types.KeySpecSymmetricDefault,
		KeyUsage:    types.KeyUsageTypeEncryptDecrypt,
		Description: aws.String("localkms test key"),
	})
	if err != nil {
		return "", fmt.Errorf("localkms: creating key: %w", err)
	}
	keyID = aws.ToString(created.KeyMetadata.KeyId)
	if alias == "" {
		return keyID, nil
	}

	_, err = client.CreateAlias(ctx, &kms.CreateAliasInput{
		AliasName:   aws.String(alias),
		TargetKeyId: aws.String(keyID),
	})
	if err != nil {
		return "", fmt.Errorf("localkms: creating alias: %w", err)
	}
	return keyID, nil
}
