package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const pan = "4242424242424242"

// everyWay renders v through every path a value takes into logs and bodies.
func everyWay(t *testing.T, v any) string {
	t.Helper()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("msg", "value", v)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("msg", "value", v)

	body, err := json.Marshal(map[string]any{"value": v})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join([]string{
		fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q %x", v, v, v, v, v, v),
		fmt.Sprintf("%v", struct{ V any }{v}), string(body), logs.String(),
		fmt.Errorf("wrapped: %v", v).Error(),
	}, "\n")
}

func TestPANNeverRendersDigits(t *testing.T) {
	p := NewPAN(pan)
	out := everyWay(t, p)
	if strings.Contains(out, pan) || strings.Contains(out, pan[:6]) {
		t.Fatalf("PAN digits leaked:\n%s", out)
	}
	if !strings.Contains(out, "****4242") {
		t.Fatalf("masked form missing:\n%s", out)
	}
	if p.Reveal() != pan || p.Last4() != "4242" || p.BIN() != "424242" {
		t.Fatal("accessors do not return the real parts")
	}
}

func TestValueNeverRenders(t *testing.T) {
	const cryptogram = "AgAAAAAABk4DWZ4C28yUQAAAAAA="
	v := New(cryptogram)
	out := everyWay(t, v)
	if strings.Contains(out, cryptogram) || strings.Contains(out, "AgAAAA") {
		t.Fatalf("secret leaked:\n%s", out)
	}
	if v.Reveal() != cryptogram || v.IsZero() {
		t.Fatal("Reveal does not return the value")
	}
}

func TestShortPANIsFullyRedacted(t *testing.T) {
	for _, digits := range []string{"", "1", "123"} {
		if got := NewPAN(digits).String(); got != redacted {
			t.Errorf("NewPAN(%q).String() = %q, want %q", digits, got, redacted)
		}
		if NewPAN(digits).Last4() != "" || NewPAN(digits).BIN() != "" {
			t.Errorf("short PAN %q yields parts", digits)
		}
	}
}
