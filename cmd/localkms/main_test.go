package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

func TestLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:4599", true},
		{"[::1]:4599", true},
		{"0.0.0.0:4599", false},
		{":4599", false},
		{"localhost:4599", false}, // a name could resolve anywhere
		{"10.0.0.1:4599", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		if err := loopbackOnly(tt.addr); (err == nil) != tt.ok {
			t.Errorf("loopbackOnly(%q) = %v, want ok %v", tt.addr, err, tt.ok)
		}
	}
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// start runs the command until the test ends and returns what it printed.
func start(t *testing.T, env map[string]string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, w)
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})

	printed := map[string]string{}
	lines := bufio.NewScanner(out)
	for len(printed) < 2 && lines.Scan() {
		k, v, _ := strings.Cut(lines.Text(), "=")
		printed[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if len(printed) < 2 {
		t.Fatalf("printed %v before stopping", printed)
	}
	return printed
}

func client(endpoint string) *kms.Client {
	return kms.New(kms.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
}

// The command serves KMS on the address it is given with the alias in
// place, and a restart on the same data folder finds the same key.
func TestServesTheAliasAndKeepsIt(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ATLAS_KMS_ADDR": freeAddr(t), "ATLAS_KMS_DATA": dir,
		"ATLAS_KMS_KEY_ID": "alias/cmd-test"}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	keyID := func(printed map[string]string) string {
		t.Helper()
		if printed["AWS_ENDPOINT_URL_KMS"] != "http://"+env["ATLAS_KMS_ADDR"] ||
			printed["ATLAS_KMS_KEY_ID"] != "alias/cmd-test" {
			t.Fatalf("printed %v", printed)
		}
		c := client(printed["AWS_ENDPOINT_URL_KMS"])
		out, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
			KeyId: aws.String("alias/cmd-test"), NumberOfBytes: aws.Int32(32),
		})
		if err != nil {
			t.Fatalf("GenerateDataKey through the alias: %v", err)
		}
		return aws.ToString(out.KeyId)
	}

	var first string
	t.Run("first start", func(t *testing.T) { first = keyID(start(t, env)) })
	t.Run("restart", func(t *testing.T) {
		if again := keyID(start(t, env)); again != first {
			t.Errorf("key %s after restart, want %s", again, first)
		}
	})
}

func TestRefusesBadSettings(t *testing.T) {
	tests := []map[string]string{
		{"ATLAS_KMS_ADDR": "0.0.0.0:4599"},
		{"ATLAS_KMS_KEY_ID": "arn:aws:kms:us-east-1:1:key/x"},
	}
	for _, env := range tests {
		err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
		if err == nil {
			t.Errorf("%v accepted", env)
		}
	}
}
