package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// JSONLines writes each event as one JSON object on its own line. It is the
// publisher for local development. It is safe for concurrent use: the events
// of one Publish call go to the writer in a single Write, and no two Writes
// overlap.
type JSONLines struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONLines returns a publisher that writes to w.
func NewJSONLines(w io.Writer) (*JSONLines, error) {
	if w == nil {
		return nil, fmt.Errorf("json lines publisher: no writer")
	}
	return &JSONLines{w: w}, nil
}

// Publish writes the events, one per line.
func (j *JSONLines) Publish(ctx context.Context, events ...Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publish events: %w", err)
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // Encode ends each object with a newline.
	for _, e := range events {
		if err := e.check(); err != nil {
			return fmt.Errorf("publish events: %w", err)
		}
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("publish events: encoding %s: %w", e.ID, err)
		}
	}
	if buf.Len() == 0 {
		return nil
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("publish events: writing: %w", err)
	}
	return nil
}
