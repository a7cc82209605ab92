package signature

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := []byte("whsec_test")
	body := []byte(`{"id":"evt_1"}`)
	now := time.Unix(1_800_000_000, 0)
	good := Sign(secret, now, body)
	other := Sign([]byte("another"), now, body)
	ts := good[:strings.Index(good, ",")]

	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		at     time.Time
		want   error
	}{
		{"good", secret, good, body, now, nil},
		{"within tolerance late", secret, good, body, now.Add(4 * time.Minute), nil},
		{"rotation: second v1 matches", secret, other + "," + good[strings.Index(good, "v1="):], body, now, nil},
		{"wrong secret", []byte("nope"), good, body, now, ErrMismatch},
		{"tampered body", secret, good, []byte(`{"id":"evt_2"}`), now, ErrMismatch},
		{"stale", secret, good, body, now.Add(6 * time.Minute), ErrStale},
		{"from the future", secret, good, body, now.Add(-6 * time.Minute), ErrStale},
		{"empty", secret, "", body, now, ErrMalformed},
		{"no signature", secret, ts, body, now, ErrMalformed},
		{"no timestamp", secret, good[strings.Index(good, "v1="):], body, now, ErrMalformed},
		{"two timestamps", secret, ts + "," + good, body, now, ErrMalformed},
		{"bad hex", secret, ts + ",v1=zz", body, now, ErrMalformed},
		{"short signature", secret, ts + ",v1=abcd", body, now, ErrMalformed},
		{"timestamp not a number", secret, "t=abc" + good[len(ts):], body, now, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.at, 5*time.Minute)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignIsDeterministicAndTimeBound(t *testing.T) {
	secret, body := []byte("k"), []byte("b")
	at := time.Unix(1_800_000_000, 0)
	if Sign(secret, at, body) != Sign(secret, at, body) {
		t.Fatal("same input, different signature")
	}
	if Sign(secret, at, body) == Sign(secret, at.Add(time.Second), body) {
		t.Fatal("the timestamp is not part of the signature")
	}
}
