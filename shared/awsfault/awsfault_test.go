package awsfault_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	miniserver "github.com/truora/minidyn/server"

	"github.com/atlas-network-tokens/atlas/shared/awsfault"
	"github.com/atlas-network-tokens/atlas/shared/infra"
)

// minidyn serves DynamoDB on 127.0.0.1 with the service's table and
// returns a client whose requests go through faults.
func minidyn(t *testing.T, faults *awsfault.Transport) *dynamodb.Client {
	t.Helper()
	srv := httptest.NewServer(miniserver.NewServer()) // binds 127.0.0.1
	t.Cleanup(srv.Close)
	db := dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("a", "b", ""),
		HTTPClient:       faults.Client(),
		RetryMaxAttempts: 1,
	})
	if _, err := db.CreateTable(context.Background(), infra.TableInput("t")); err != nil {
		t.Fatal(err)
	}
	return db
}

func put(ctx context.Context, db *dynamodb.Client, pk string,
	opts ...func(*dynamodb.Options)) error {
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("t"),
		Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk},
			"sk": &types.AttributeValueMemberS{Value: "x"},
		},
	}, opts...)
	return err
}

func exists(ctx context.Context, t *testing.T, db *dynamodb.Client, pk string) bool {
	t.Helper()
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String("t"),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk},
			"sk": &types.AttributeValueMemberS{Value: "x"},
		},
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	return len(out.Item) > 0
}

// The SDK sees an injected error as the service's own: typed where the
// service model has a type, an APIError with the code otherwise, and
// nothing reaches the emulator.
func TestErrorReachesTheSDKAsTheServicesOwn(t *testing.T) {
	tests := []struct {
		name     string
		fault    awsfault.Fault
		wantCode string
		typed    func(error) bool // nil when the model has no such type
	}{
		{"throughput exceeded", awsfault.Error("PutItem", 400,
			"ProvisionedThroughputExceededException", "too fast"),
			"ProvisionedThroughputExceededException", func(err error) bool {
				var e *types.ProvisionedThroughputExceededException
				return errors.As(err, &e)
			}},
		{"throttling", awsfault.Error("PutItem", 400, "ThrottlingException", "slow down"),
			"ThrottlingException", nil}, // not in DynamoDB's model: a generic APIError
		{"internal server error", awsfault.Error("PutItem", 500, "InternalServerError",
			"oops"), "InternalServerError", func(err error) bool {
			var e *types.InternalServerError
			return errors.As(err, &e)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			faults := awsfault.New(nil)
			db := minidyn(t, faults)
			faults.Inject(tt.fault.Once())

			err := put(ctx, db, "faulted")
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
				t.Fatalf("error = %v, want API error %s", err, tt.wantCode)
			}
			if tt.typed != nil && !tt.typed(err) {
				t.Errorf("error %T is not the modelled type", err)
			}
			if exists(ctx, t, db, "faulted") {
				t.Error("the faulted write reached the emulator")
			}
			if err := put(ctx, db, "after"); err != nil {
				t.Errorf("a once-fault fired twice: %v", err)
			}
			if got := faults.Injected("PutItem"); got != 1 {
				t.Errorf("Injected = %d, want 1", got)
			}
			if got := faults.Seen("PutItem"); got != 2 {
				t.Errorf("Seen = %d, want 2", got)
			}
		})
	}
}

func TestUnlimitedFaultUntilClear(t *testing.T) {
	ctx := context.Background()
	faults := awsfault.New(nil)
	db := minidyn(t, faults)
	faults.Inject(awsfault.Error("PutItem", 503, "ServiceUnavailable", "down"))

	for i := range 3 {
		if err := put(ctx, db, "x"); err == nil {
			t.Fatalf("attempt %d passed under an unlimited fault", i)
		}
	}
	if exists(ctx, t, db, "x") { // GetItem is not faulted
		t.Fatal("a faulted write reached the emulator")
	}
	faults.Clear()
	if err := put(ctx, db, "x"); err != nil {
		t.Fatalf("after Clear: %v", err)
	}
}

// With retries allowed the SDK retries an injected throttle, and the
// second attempt reaches the emulator.
func TestSDKRetriesAnInjectedThrottle(t *testing.T) {
	ctx := context.Background()
	faults := awsfault.New(nil)
	db := minidyn(t, faults)
	faults.Inject(awsfault.Error("PutItem", 400, "ThrottlingException", "slow").Once())

	err := put(ctx, db, "r", func(o *dynamodb.Options) {
		o.RetryMaxAttempts = 2
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), 1)
	})
	if err != nil {
		t.Fatalf("retried put: %v", err)
	}
	if !exists(ctx, t, db, "r") || faults.Seen("PutItem") != 2 {
		t.Errorf("seen %d PutItem calls; item there: %v", faults.Seen("PutItem"),
			exists(ctx, t, db, "r"))
	}
}

func TestBeforeRunsOnceAndMayReenter(t *testing.T) {
	ctx := context.Background()
	faults := awsfault.New(nil)
	db := minidyn(t, faults)
	ran := 0
	faults.Inject(awsfault.Before("PutItem", func() {
		ran++
		if err := put(ctx, db, "from-hook"); err != nil {
			t.Errorf("hook's own put: %v", err)
		}
	}))

	if err := put(ctx, db, "outer"); err != nil {
		t.Fatal(err)
	}
	if err := put(ctx, db, "later"); err != nil {
		t.Fatal(err)
	}
	if ran != 1 || !exists(ctx, t, db, "from-hook") || !exists(ctx, t, db, "outer") {
		t.Errorf("hook ran %d times", ran)
	}
}

func TestRejectEntries(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		body      string
		wantCount float64
		wantErr   bool
	}{
		{"first of two", 1, `{"Entries":[{"EventId":"a"},{"EventId":"b"}],` +
			`"FailedEntryCount":0}`, 1, false},
		{"more than there are", 5, `{"Entries":[{"EventId":"a"}]}`, 1, false},
		{"no entries", 1, `{"Entries":[]}`, 0, true},
		{"not JSON", 1, `<html>`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := awsfault.RejectEntries(tt.n, "ThrottlingException", "Rate")(
				[]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			var got struct {
				FailedEntryCount float64
				Entries          []struct{ EventID, ErrorCode string }
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if got.FailedEntryCount != tt.wantCount ||
				got.Entries[0].ErrorCode != "ThrottlingException" {
				t.Errorf("rewritten: %s", out)
			}
		})
	}
}

// Rewrite edits only successful answers; requests without X-Amz-Target
// pass untouched.
func TestRewriteAndPassThrough(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			http.Error(w, "no", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("original"))
	}))
	t.Cleanup(srv.Close)
	faults := awsfault.New(nil)
	faults.Inject(awsfault.Rewrite("Op", func([]byte) ([]byte, error) {
		return []byte("edited"), nil
	}))
	client := faults.Client()

	tests := []struct {
		path, target, want string
	}{
		{"/", "Svc.Op", "edited"},
		{"/fail", "Svc.Op", "no\n"},
		{"/", "Svc.Other", "original"},
		{"/", "", "original"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("POST", srv.URL+tt.path, strings.NewReader("{}"))
		if tt.target != "" {
			req.Header.Set("X-Amz-Target", tt.target)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		resp.Body.Close()
		if b.String() != tt.want {
			t.Errorf("%s %q: body %q, want %q", tt.path, tt.target, b.String(), tt.want)
		}
	}
}

// A cancelled transaction carries its reasons to the SDK's typed error.
func TestCancelledCarriesReasons(t *testing.T) {
	ctx := context.Background()
	faults := awsfault.New(nil)
	db := minidyn(t, faults)
	faults.Inject(awsfault.Cancelled("None", "TransactionConflict").Once())

	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{{Put: &types.Put{
			TableName: aws.String("t"),
			Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "p"},
				"sk": &types.AttributeValueMemberS{Value: "x"},
			},
		}}},
	})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 2 ||
		aws.ToString(tce.CancellationReasons[1].Code) != "TransactionConflict" {
		t.Fatalf("error = %v, want a cancellation with reasons [None TransactionConflict]", err)
	}
	if exists(ctx, t, db, "p") {
		t.Error("the cancelled put reached the emulator")
	}
}
