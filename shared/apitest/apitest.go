// Package apitest holds what tests of the service share: a buffer that
// collects logs or events written from many goroutines, and assertions on
// decoded JSON response bodies.
package apitest

import (
	"bytes"
	"regexp"
	"sync"
	"testing"
)

// Buffer is a bytes.Buffer safe for concurrent Write and String.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WantField checks that body[field] is the string want.
func WantField(t testing.TB, body map[string]any, field, want string) {
	t.Helper()
	if got, ok := body[field].(string); !ok || got != want {
		t.Errorf("%s = %#v, want %q", field, body[field], want)
	}
}

// WantNumber checks that body[field] is the JSON number want.
func WantNumber(t testing.TB, body map[string]any, field string, want int) {
	t.Helper()
	if got, ok := body[field].(float64); !ok || got != float64(want) {
		t.Errorf("%s = %#v, want %d", field, body[field], want)
	}
}

// WantMatch checks that body[field] is a string that re matches.
func WantMatch(t testing.TB, body map[string]any, field string, re *regexp.Regexp) {
	t.Helper()
	if got, ok := body[field].(string); !ok || !re.MatchString(got) {
		t.Errorf("%s = %#v, want a match of %s", field, body[field], re)
	}
}
