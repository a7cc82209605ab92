package publish

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestJSONLinesConcurrent(t *testing.T) {
	var out bytes.Buffer
	pub, err := NewJSONLines(&out)
	if err != nil {
		t.Fatal(err)
	}

	const writers, perWriter = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range perWriter {
				e := mustEvent(t, NetworkTokenSuspended, map[string]int{"writer": w})
				if err := pub.Publish(context.Background(), e, e); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()

	lines := 0
	scanner := bufio.NewScanner(&out)
	for scanner.Scan() {
		var e struct {
			ID   string
			Type Type
			Data map[string]int
		}
		if err := json.Unmarshal(scanner.Bytes(), &e); err != nil {
			t.Fatalf("line %d %q: %v", lines+1, scanner.Text(), err)
		}
		if !eventIDPattern.MatchString(e.ID) || e.Type != NetworkTokenSuspended {
			t.Fatalf("line %d: %+v", lines+1, e)
		}
		lines++
	}
	if want := writers * perWriter * 2; lines != want {
		t.Errorf("wrote %d lines, want %d", lines, want)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestJSONLinesErrors(t *testing.T) {
	good := mustEvent(t, NetworkTokenCreated, struct{}{})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name    string
		w       *bytes.Buffer
		ctx     context.Context
		events  []Event
		wantErr string
	}{
		{name: "not from NewEvent", ctx: context.Background(),
			events: []Event{good, {Type: NetworkTokenCreated}}, wantErr: "event has no id"},
		{name: "cancelled", ctx: cancelled, events: []Event{good},
			wantErr: "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			pub, _ := NewJSONLines(&out)
			err := pub.Publish(tt.ctx, tt.events...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %q after an error", out.String())
			}
		})
	}

	pub, _ := NewJSONLines(failingWriter{})
	if err := pub.Publish(context.Background(), good); err == nil ||
		!strings.Contains(err.Error(), "disk full") {
		t.Errorf("write failure: error = %v", err)
	}
	if _, err := NewJSONLines(nil); err == nil {
		t.Error("NewJSONLines(nil) succeeded")
	}
}

func mustEvent(t *testing.T, typ Type, data any) Event {
	t.Helper()
	e, err := NewEvent(typ, "mer_1", data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return e
}
