// Package logging builds the service's slog logger: JSON lines, with a last
// line of defence that masks anything shaped like a card number.
//
// Secrets are kept out of logs by their types (package secret) and by never
// logging request bodies. The scrubbing here catches what slips past that,
// such as a PAN inside an error from a dependency: in the message and in
// every string attribute, a run of 12 to 19 digits (with or without spaces
// or dashes between groups) is replaced when it stands alone or passes the
// Luhn check, before the line is written. Every card number passes Luhn, so
// none gets through; random ids mostly keep their digits.
package logging

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/atlas-network-tokens/atlas/shared/card"
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

const masked = "[REDACTED_PAN]"

// Scrub masks every card-number-shaped run of digits in s. Use it on text a
// caller chose that is about to be echoed back or stored.
func Scrub(s string) string {
	return panShaped.ReplaceAllString(s, masked)
}

// ScrubLogText masks what could be a card number in a log line: a 12 to 19
// digit run that stands alone, or one that passes the Luhn check wherever it
// is. A digit run inside a random hex id (evt_…, nt_…) that fails Luhn is
// left alone, so ids stay readable; one in ten such runs passes Luhn by
// chance and is masked all the same, which costs only readability.
func ScrubLogText(s string) string {
	spans := panShaped.FindAllStringIndex(s, -1)
	if spans == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		run := s[sp[0]:sp[1]]
		standsAlone := !wordByte(s, sp[0]-1) && !wordByte(s, sp[1])
		if !standsAlone && !luhn(run) {
			continue
		}
		b.WriteString(s[last:sp[0]])
		b.WriteString(masked)
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// wordByte reports whether s[i] exists and is a letter, digit or underscore.
func wordByte(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// luhn checks the Luhn digit of a run, ignoring spaces and dashes.
func luhn(run string) bool {
	digits := strings.NewReplacer(" ", "", "-", "").Replace(run)
	return card.Luhn(digits)
}

type scrubber struct{ next slog.Handler }

func (h scrubber) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h scrubber) Handle(ctx context.Context, r slog.Record) error {
	clean := slog.NewRecord(r.Time, r.Level, ScrubLogText(r.Message), r.PC)
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
		return slog.String(a.Key, ScrubLogText(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = scrubAttr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, ScrubLogText(err.Error()))
		}
		return slog.String(a.Key, ScrubLogText(v.String()))
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}
