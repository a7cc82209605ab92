package logging

import (
	"strings"
	"testing"

	smithylogging "github.com/aws/smithy-go/logging"
)

func TestLogScrubKeepsIdsAndCatchesEmbeddedPANs(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// A hex id whose digit run fails Luhn stays readable.
		{"evt_cdc8123456789012345f", "evt_cdc8123456789012345f"},
		// A card number glued to letters still passes Luhn: masked.
		{"tok4242424242424242x", "tok[REDACTED_PAN]x"},
		// Standing alone, any 12+ digit run is masked, Luhn or not.
		{"id 123456789012", "id [REDACTED_PAN]"},
		{"pan=4111 1111 1111 1111.", "pan=[REDACTED_PAN]."},
	}
	for _, tt := range tests {
		if got := ScrubLogText(tt.in); got != tt.want {
			t.Errorf("ScrubLogText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSDKLinesBecomeScrubbedJSON(t *testing.T) {
	var buf strings.Builder
	SDK(New(&buf, "info")).Logf(smithylogging.Warn, "retrying %s", "card 4242424242424242")
	line := buf.String()
	if !strings.HasPrefix(line, "{") || !strings.Contains(line, `"source":"aws-sdk"`) ||
		!strings.Contains(line, `"level":"WARN"`) {
		t.Fatalf("SDK line = %q, want a JSON warning record", line)
	}
	if strings.Contains(line, "4242424242424242") {
		t.Fatalf("SDK line leaks a PAN: %q", line)
	}
}
