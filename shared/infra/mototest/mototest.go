// Package mototest connects integration tests to the moto_server that
// scripts/emulators.sh starts (make test runs every test under it).
//
// The server's address comes from ATLAS_MOTO_URL. Without it a test cannot
// run: in CI (CI set and not "false") that fails the test, since integration
// tests must never be skipped there; elsewhere the test is skipped.
package mototest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// EnvURL is the variable that holds moto's base URL, http://127.0.0.1:PORT.
const EnvURL = "ATLAS_MOTO_URL"

// URL returns moto's base URL, or ends the test as the package doc says.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url != "" {
		return url
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" {
		t.Fatal("moto not running; run via make test (" + EnvURL + " is unset)")
	}
	t.Skip("moto not running; run via make test (" + EnvURL + " is unset)")
	return ""
}

// Config returns an AWS config loaded the standard way, with every service
// pointed at moto, test credentials and us-east-1 unless AWS_REGION is set.
// It sets the variables with t.Setenv, so the test must not be parallel.
// Per-service endpoints set before the call (AWS_ENDPOINT_URL_KMS for
// local-kms, say) still win over moto.
func Config(t testing.TB) aws.Config {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL", URL(t))
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	if os.Getenv("AWS_REGION") == "" {
		t.Setenv("AWS_REGION", "us-east-1")
	}

	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatalf("loading AWS config: %v", err)
	}
	return cfg
}

// Name returns prefix and a random suffix, for resources that must not
// collide with those of other test runs on the same server.
func Name(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + "-" + hex.EncodeToString(b[:])
}
