// Package logging builds the service's slog logger: JSON lines, with a last
// line of defence that masks anything shaped like a card number.
//
// Secrets are kept out of logs by their types (package secret) and by never
// logging request bodies. The scrubbing here catches what slips past that,
// such as a PAN inside an error from a dependency: every run of 12 to 19
// digits, with or without spaces or dashes between groups, in the message
// or in any string attribute, is replaced before the line is written.
package logging

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
)

// New returns a JSON logger writing to w at the given level ("debug",
// "info", "warn", "error"; anything else means info).
func New(w io.Writer, level string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: parseLevel(level)}
	return slog.New(scrubber{next: slog.NewJSONHandler(w, opts)})
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// panShaped matches 12 to 19 digits, allowing one space or dash between
// digits, as card numbers are often written.
var panShaped = regexp.MustCompile(`\d(?:[ -]?\d){11,18}`)

// Scrub masks every card-number-shaped run of digits in s.
func Scrub(s string) string {
	return panShaped.ReplaceAllString(s, "[REDACTED_PAN]")
}

type scrubber struct{ next slog.Handler }

func (h scrubber) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h scrubber) Handle(ctx context.Context, r slog.Record) error {
	clean := slog.NewRecord(r.Time, r.Level, Scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		clean.AddAttrs(scrubAttr(a))
		return true
	})
	return h.next.Handle(ctx, clean)
}

func (h scrubber) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = scrubAttr(a)
	}
	return scrubber{next: h.next.WithAttrs(clean)}
}

func (h scrubber) WithGroup(name string) slog.Handler {
	return scrubber{next: h.next.WithGroup(name)}
}

// unscrubbed names attributes whose values we make ourselves and that can
// hold long digit runs without being card numbers: a Lambda request id is
// a UUID such as c0ffee00-0000-4000-8000-000000000001.
var unscrubbed = map[string]bool{"request_id": true}

func scrubAttr(a slog.Attr) slog.Attr {
	if unscrubbed[a.Key] {
		return a
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Scrub(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = scrubAttr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, Scrub(err.Error()))
		}
		return slog.String(a.Key, Scrub(v.String()))
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}
