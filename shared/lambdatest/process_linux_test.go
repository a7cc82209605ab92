package lambdatest

import "testing"

func TestParentPID(t *testing.T) {
	tests := []struct {
		stat   string
		want   int
		wantOK bool
	}{
		{stat: "123 (bootstrap) S 77 123 123 0 -1", want: 77, wantOK: true},
		{stat: "9 (a) b) (c) R 1 9 9", want: 1, wantOK: true},
		{stat: "9 (cut", wantOK: false},
		{stat: "9 (x) S", wantOK: false},
		{stat: "9 (x) S notanumber", wantOK: false},
	}
	for _, tt := range tests {
		got, ok := parentPID([]byte(tt.stat))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parentPID(%q) = %d, %v; want %d, %v", tt.stat, got, ok, tt.want, tt.wantOK)
		}
	}
}
