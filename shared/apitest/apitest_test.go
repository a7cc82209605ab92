package apitest

import (
	"strings"
	"sync"
	"testing"
)

func TestBufferTakesConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { _, _ = b.Write([]byte("line\n")) })
	}
	wg.Wait()
	if n := strings.Count(b.String(), "line\n"); n != 50 {
		t.Fatalf("%d lines, want 50", n)
	}
}
