package localkms_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-network-tokens/atlas/shared/localkms"
)

func start(t *testing.T) *localkms.Server {
	t.Helper()
	srv, err := localkms.Start(t.TempDir())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

func TestListensOnLoopbackOnly(t *testing.T) {
	srv := start(t)

	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatalf("parse URL %q: %v", srv.URL, err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "0" {
		t.Fatalf("URL = %q, want http://127.0.0.1:<port>", srv.URL)
	}
}

func TestCloseStopsListener(t *testing.T) {
	srv, err := localkms.Start(t.TempDir())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	addr := strings.TrimPrefix(srv.URL, "http://")

	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("dial before Close: %v", err)
	}
	conn.Close()

	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("dial after Close succeeded; listener still open on %s", addr)
	}
}

func TestStoreIsReleasedAndReopened(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()

	first, err := localkms.Start(dir)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	keyID, err := first.CreateKey(ctx, "alias/kept")
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}

	if _, err := localkms.Start(dir); err == nil {
		t.Fatal("second Start on a locked store succeeded, want error")
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	second, err := localkms.Start(dir)
	if err != nil {
		t.Fatalf("Start after Close: %v", err)
	}
	defer second.Close()
	out, err := second.Client().DescribeKey(ctx,
		&kms.DescribeKeyInput{KeyId: aws.String("alias/kept")})
	if err != nil {
		t.Fatalf("DescribeKey after reopen: %v", err)
	}
	if got := aws.ToString(out.KeyMetadata.KeyId); got != keyID {
		t.Fatalf("alias/kept resolves to %q, want %q", got, keyID)
	}
}

func TestTwoServersShareARegion(t *testing.T) {
	ctx := context.Background()
	servers := []*localkms.Server{start(t), start(t)}

	var keyIDs []string
	for _, srv := range servers {
		keyID, err := srv.CreateKey(ctx, "alias/same-name")
		if err != nil {
			t.Fatalf("CreateKey on %s: %v", srv.URL, err)
		}
		keyIDs = append(keyIDs, keyID)
	}
	if servers[0].URL == servers[1].URL || keyIDs[0] == keyIDs[1] {
		t.Fatalf("servers %v and keys %v are not separate", servers, keyIDs)
	}

	// Each store knows only its own key.
	_, err := servers[0].Client().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyIDs[1])})
	if code := apiErrorCode(err); code != "NotFoundException" {
		t.Fatalf("DescribeKey of the other server's key: err = %v, want NotFoundException", err)
	}
}

func TestStartRejects(t *testing.T) {
	srv := start(t) // holds the process's region at us-east-1

	tests := []struct {
		name string
		dir  string
		opts []localkms.Option
	}{
		{"empty dir", "", nil},
		{"empty region", t.TempDir(), []localkms.Option{localkms.WithRegion("")}},
		{"second region while open", t.TempDir(), []localkms.Option{localkms.WithRegion("eu-west-1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other, err := localkms.Start(tt.dir, tt.opts...)
			if err == nil {
				other.Close()
				t.Fatal("Start succeeded, want error")
			}
		})
	}

	if srv.Region != localkms.DefaultRegion {
		t.Errorf("Region = %q, want %q", srv.Region, localkms.DefaultRegion)
	}
}

func TestKeyLifecycleThroughSDK(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	client := srv.Client()

	keyID, err := srv.CreateKey(ctx, "alias/lifecycle")
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}

	described, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		t.Fatalf("DescribeKey: %v", err)
	}
	arn := aws.ToString(described.KeyMetadata.Arn)
	wantPrefix := "arn:aws:kms:" + localkms.DefaultRegion + ":" + localkms.AccountID + ":key/"
	if !strings.HasPrefix(arn, wantPrefix) {
		t.Errorf("key ARN = %q, want prefix %q", arn, wantPrefix)
	}

	aliases, err := client.ListAliases(ctx, &kms.ListAliasesInput{})
	if err != nil {
		t.Fatalf("ListAliases: %v", err)
	}
	if !hasAlias(aliases.Aliases, "alias/lifecycle", keyID) {
		t.Errorf("ListAliases has no alias/lifecycle -> %s", keyID)
	}

	encrypted, err := client.Encrypt(ctx, &kms.EncryptInput{
		KeyId: aws.String("alias/lifecycle"), Plaintext: []byte("hello"),
	})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}

	if _, err := client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keyID)}); err != nil {
		t.Fatalf("DisableKey: %v", err)
	}
	_, err = client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: encrypted.CiphertextBlob})
	// AWS answers DisabledException; local-kms, given no KeyId, AccessDeniedException.
	if code := apiErrorCode(err); code != "DisabledException" && code != "AccessDeniedException" {
		t.Fatalf("Decrypt with disabled key: err = %v, want DisabledException or AccessDenied", err)
	}
	_, err = client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyID), Plaintext: []byte("x")})
	if code := apiErrorCode(err); code != "DisabledException" {
		t.Fatalf("Encrypt with disabled key: err = %v, want DisabledException", err)
	}

	if _, err := client.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(keyID)}); err != nil {
		t.Fatalf("EnableKey: %v", err)
	}
	decrypted, err := client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: encrypted.CiphertextBlob})
	if err != nil {
		t.Fatalf("Decrypt after EnableKey: %v", err)
	}
	if string(decrypted.Plaintext) != "hello" {
		t.Fatalf("Decrypt = %q, want %q", decrypted.Plaintext, "hello")
	}
}

func TestCreateKeyRejectsBadAlias(t *testing.T) {
	srv := start(t)
	if _, err := srv.CreateKey(context.Background(), "no-prefix"); err == nil {
		t.Fatal("CreateKey with alias lacking alias/ succeeded, want error")
	}
}

func TestUnservedOperationIsJSONError(t *testing.T) {
	srv := start(t)
	ctx := context.Background()

	_, err := srv.Client().GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String("anything")})
	if code := apiErrorCode(err); code != "UnknownOperationException" {
		t.Fatalf("GetKeyPolicy err = %v, want UnknownOperationException", err)
	}
}

func TestHTTPProtocolChecks(t *testing.T) {
	srv := start(t)

	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		target      string
		body        string
		wantStatus  int
	}{
		{"unknown path", "POST", "/other", "application/x-amz-json-1.1",
			"TrentService.ListKeys", "{}", http.StatusNotFound},
		{"GET", "GET", "/", "application/x-amz-json-1.1",
			"TrentService.ListKeys", "", http.StatusMethodNotAllowed},
		{"not JSON", "POST", "/", "text/plain", "TrentService.ListKeys", "{}",
			http.StatusUnsupportedMediaType},
		{"no target", "POST", "/", "application/json", "", "{}", http.StatusNotImplemented},
		{"other service", "POST", "/", "application/json", "DynamoDB_20120810.ListKeys", "{}",
			http.StatusNotImplemented},
		{"unserved action", "POST", "/", "application/json", "TrentService.Sign", "{}",
			http.StatusNotImplemented},
		{"served action", "POST", "/", "application/x-amz-json-1.1", "TrentService.ListKeys",
			"{}", http.StatusOK},
		{"garbage body", "POST", "/", "application/json", "TrentService.CreateAlias",
			"{not json", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("X-Amz-Target", tt.target)

			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, body, tt.wantStatus)
			}
		})
	}
}

func apiErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func hasAlias(aliases []types.AliasListEntry, name, keyID string) bool {
	for _, a := range aliases {
		if aws.ToString(a.AliasName) == name && aws.ToString(a.TargetKeyId) == keyID {
			return true
		}
	}
	return false
}
