package logging

import "testing"

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
		if got := scrubLog(tt.in); got != tt.want {
			t.Errorf("scrubLog(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
