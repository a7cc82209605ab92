package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/atlas-network-tokens/atlas/shared/logging"
)

const masked = "[REDACTED_PAN]"

func TestScrub(t *testing.T) {
	cases := []struct{ in, want string }{
		{"4242424242424242", masked},
		{"card 4242 4242 4242 4242 declined", "card " + masked + " declined"},
		{"card 4242-4242-4242-4242.", "card " + masked + "."},
		{"amex 3782 822463 10005", "amex " + masked},
		{"19 digits 4000000000000000006", "19 digits " + masked},
		{"12 digits 123456789012", "12 digits " + masked},
		{"two 4111111111111111 and 5555555555554444", "two " + masked + " and " + masked},
		{"in json {\"pan\":\"4242424242424242\"}", "in json {\"pan\":\"" + masked + "\"}"},
		{"10 digits 1234567890 kept", "10 digits 1234567890 kept"},
		{"11 digits 12345678901 kept", "11 digits 12345678901 kept"},
		{"epoch 1767225600 and 42", "epoch 1767225600 and 42"},
		{"last four 4242 and BIN 424242", "last four 4242 and BIN 424242"},
		{"", ""},
	}
	for _, c := range cases {
		if got := logging.Scrub(c.in); got != c.want {
			t.Errorf("Scrub(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestLoggerMasks writes lines through New with card numbers in every place
// an attribute can hold one.
func TestLoggerMasks(t *testing.T) {
	const pan = "5555555555554444"
	var buf bytes.Buffer
	log := logging.New(&buf, "debug")
	log = log.With("scoped", "pan "+pan)
	log.Error("provisioning failed",
		"error", fmt.Errorf("network said: card %s refused: %w", pan, errors.New("declined")))
	log.Info("message "+pan, "group", slog.GroupValue(slog.String("inner", pan)))
	log.WithGroup("g").Warn("grouped", "pan", "4242 4242 4242 4242", "n", 42)
	log.Debug("stringer", "value", stringer(pan))

	out := buf.String()
	if strings.Contains(out, pan) || strings.Contains(out, "4242 4242 4242 4242") {
		t.Fatalf("a PAN reached the log:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), out)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("not JSON: %s", lines[0])
	}
	if first["error"] != "network said: card "+masked+" refused: declined" {
		t.Errorf("error attr = %q", first["error"])
	}
	if first["scoped"] != "pan "+masked || first["level"] != "ERROR" {
		t.Errorf("line %v", first)
	}
	var third map[string]any
	_ = json.Unmarshal([]byte(lines[2]), &third)
	if g, _ := third["g"].(map[string]any); g["n"] != float64(42) || g["pan"] != masked {
		t.Errorf("grouped line %s", lines[2])
	}
}

type stringer string

func (s stringer) String() string { return "stringer " + string(s) }

func TestLevels(t *testing.T) {
	cases := []struct {
		level string
		lines int // of debug, info, warn, error
	}{
		{"debug", 4}, {"DEBUG", 4}, {"info", 3}, {"", 3}, {"bogus", 3}, {"warn", 2}, {"error", 1},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		log := logging.New(&buf, c.level)
		log.Debug("d")
		log.Info("i")
		log.Warn("w")
		log.Error("e")
		if got := strings.Count(buf.String(), "\n"); got != c.lines {
			t.Errorf("level %q: %d lines, want %d", c.level, got, c.lines)
		}
	}
}
