package publish

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/secret"
)

var eventIDPattern = regexp.MustCompile(`^evt_[0-9a-f]{32}$`)

func TestNewEvent(t *testing.T) {
	now := time.Date(2025, 1, 21, 13, 10, 5, 999, time.FixedZone("CET", 3600))
	data := map[string]string{"networkTokenId": "nt_abc123"}

	tests := []struct {
		name     string
		typ      Type
		merchant string
		data     any
		now      time.Time
		wantErr  string
	}{
		{name: "created", typ: NetworkTokenCreated, merchant: "mer_1", data: data, now: now},
		{name: "deleted", typ: NetworkTokenDeleted, merchant: "mer_1", data: data, now: now},
		{name: "unknown type", typ: "network_token.frozen", merchant: "mer_1", data: data,
			now: now, wantErr: `unknown type "network_token.frozen"`},
		{name: "empty type", typ: "", merchant: "mer_1", data: data, now: now,
			wantErr: "unknown type"},
		{name: "no merchant", typ: NetworkTokenCreated, data: data, now: now,
			wantErr: "no merchant id"},
		{name: "no time", typ: NetworkTokenCreated, merchant: "mer_1", data: data,
			wantErr: "no time"},
		{name: "no data", typ: NetworkTokenCreated, merchant: "mer_1", now: now,
			wantErr: "no data"},
		{name: "data not json", typ: NetworkTokenCreated, merchant: "mer_1",
			data: math.Inf(1), now: now, wantErr: "encoding data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEvent(tt.typ, tt.merchant, tt.data, tt.now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewEvent error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewEvent: %v", err)
			}
			if !eventIDPattern.MatchString(e.ID) {
				t.Errorf("ID = %q, want evt_ and 32 hex digits", e.ID)
			}
			if e.Type != tt.typ || e.MerchantID != tt.merchant {
				t.Errorf("got type %q merchant %q", e.Type, e.MerchantID)
			}
			want := time.Date(2025, 1, 21, 12, 10, 5, 0, time.UTC)
			if !e.CreatedAt.Equal(want) || e.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt = %v, want %v", e.CreatedAt, want)
			}
		})
	}
}

func TestNewEventIDsDiffer(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		e, err := NewEvent(NetworkTokenUpdated, "mer_1", struct{}{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if seen[e.ID] {
			t.Fatalf("id %s repeated", e.ID)
		}
		seen[e.ID] = true
	}
}

func TestEventJSON(t *testing.T) {
	now := time.Date(2025, 1, 21, 12, 10, 0, 0, time.UTC)
	e, err := NewEvent(NetworkTokenUpdated, "mer_1",
		map[string]string{"networkTokenId": "nt_abc123", "newExpiry": "12/2028"}, now)
	if err != nil {
		t.Fatal(err)
	}
	e.ID = "evt_00000000000000000000000000000001"

	got, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"evt_00000000000000000000000000000001","type":"network_token.updated",` +
		`"createdAt":"2025-01-21T12:10:00Z","merchantId":"mer_1",` +
		`"data":{"networkTokenId":"nt_abc123","newExpiry":"12/2028"}}`
	if string(got) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", got, want)
	}
}

// An event whose data holds a secret by mistake still shows only the
// redacted form.
func TestEventJSONRedactsSecrets(t *testing.T) {
	const pan = "4111111111111111"
	const cryptogram = "AgAAAAAABk4DWZ4C28yUQAAAAAA="
	data := struct {
		PAN        secret.PAN   `json:"pan"`
		Cryptogram secret.Value `json:"cryptogram"`
	}{secret.NewPAN(pan), secret.New(cryptogram)}

	e, err := NewEvent(NetworkTokenCreated, "mer_1", data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, leaked := range []string{pan, cryptogram, "411111"} {
		if strings.Contains(string(got), leaked) {
			t.Errorf("event JSON %s contains %q", got, leaked)
		}
	}
	for _, shown := range []string{`"pan":"****1111"`, `"cryptogram":"[REDACTED]"`} {
		if !strings.Contains(string(got), shown) {
			t.Errorf("event JSON %s lacks %s", got, shown)
		}
	}
}
