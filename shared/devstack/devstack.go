// Package devstack runs the service's AWS dependencies inside the current
// process, on 127.0.0.1, for unit tests and the dev server: DynamoDB from
// github.com/truora/minidyn and KMS from github.com/nsmithuk/local-kms. The
// service talks to them with the production SDK clients; only the endpoints
// differ.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	miniserver "github.com/truora/minidyn/server"

	"github.com/atlas-network-tokens/atlas/shared/infra"
	"github.com/atlas-network-tokens/atlas/shared/localkms"
)

// Region is the region the emulated services claim to be in.
const Region = "us-east-1"

// Stack is a running pair of emulators with the service's table and key.
type Stack struct {
	DynamoURL string
	Table     string
	KeyID     string
	DynamoDB  *dynamodb.Client
	KMS       *kms.Client
	// Dynamo is the minidyn server, for tests that inject failures.
	Dynamo *miniserver.Server

	kms    *localkms.Server
	dynSrv *http.Server
}

// Start runs the emulators, keeping KMS's LevelDB files in dir, and
// creates the table and a key under infra's default alias.
func Start(ctx context.Context, dir string) (*Stack, error) {
	kmsSrv, err := localkms.Start(dir, localkms.WithRegion(Region))
	if err != nil {
		return nil, fmt.Errorf("starting local KMS: %w", err)
	}
	s := &Stack{kms: kmsSrv, KMS: kmsSrv.Client(), Table: infra.DefaultTable, Dynamo: miniserver.NewServer()}
	if err := s.serveDynamo(); err != nil {
		s.Close()
		return nil, err
	}
	s.DynamoDB = dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.DynamoURL),
		Credentials:  credentials.NewStaticCredentialsProvider("devstack", "devstack", ""),
	})
	if _, err := s.DynamoDB.CreateTable(ctx, infra.TableInput(s.Table)); err != nil {
		s.Close()
		return nil, fmt.Errorf("creating table: %w", err)
	}
	if s.KeyID, err = kmsSrv.CreateKey(ctx, infra.DefaultKeyAlias); err != nil {
		s.Close()
		return nil, fmt.Errorf("creating key: %w", err)
	}
	return s, nil
}

func (s *Stack) serveDynamo() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening for DynamoDB: %w", err)
	}
	s.DynamoURL = "http://" + ln.Addr().String()
	s.dynSrv = &http.Server{Handler: s.Dynamo, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.dynSrv.Serve(ln) }()
	return nil
}

// Close stops both emulators.
func (s *Stack) Close() error {
	var errs []error
	if s.dynSrv != nil {
		errs = append(errs, s.dynSrv.Close())
	}
	if s.kms != nil {
		errs = append(errs, s.kms.Close())
	}
	return errors.Join(errs...)
}
