package webhook

import (
	"errors"
	"strings"
	"testing"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

func TestPolicyCheck(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", MaxURLLength-len("https://example.com/"))
	tests := []struct {
		url      string
		loopback bool   // Policy.AllowLoopback
		want     string // "" for accepted, else a word of the message
	}{
		{url: "https://example.com/webhooks", want: ""},
		{url: "https://hooks.example.com:8443/a/b?c=d", want: ""},
		{url: "HTTPS://EXAMPLE.COM/x", want: ""},
		{url: "https://93.184.215.14/hook", want: ""},
		{url: long, want: ""},
		{url: long + "a", want: "2048"},
		{url: "http://example.com/webhooks", want: "https"},
		{url: "ftp://example.com/", want: "https"},
		{url: "example.com/webhooks", want: "absolute"},
		{url: "/webhooks", want: "absolute"},
		{url: "https://", want: "absolute"},
		{url: "https:example.com", want: "absolute"},
		{url: "mailto:ops@example.com", want: "absolute"},
		{url: "https://exa mple.com/", want: "absolute"},
		{url: "https://user:pass@example.com/", want: "credentials"},
		{url: "https://user@example.com/", want: "credentials"},
		{url: "https://example.com/#frag", want: "fragment"},
		{url: "https://example.com/#", want: "fragment"},
		{url: "https://127.0.0.1/", want: "loopback"},
		{url: "http://127.0.0.1:8080/", want: "loopback"},
		{url: "https://localhost/", want: "loopback"},
		{url: "https://api.localhost./", want: "loopback"},
		{url: "https://[::1]/", want: "loopback"},
		{url: "https://[::ffff:127.0.0.1]/", want: "loopback"},
		{url: "https://10.0.0.5/", want: "private"},
		{url: "https://172.16.3.4/", want: "private"},
		{url: "https://192.168.1.1/", want: "private"},
		{url: "https://169.254.169.254/latest/meta-data", want: "private"},
		{url: "https://100.64.0.1/", want: "private"},
		{url: "https://0.0.0.0/", want: "private"},
		{url: "https://[fd00::1]/", want: "private"},
		{url: "https://[fe80::1]/", want: "private"},
		{url: "https://[::ffff:10.0.0.1]/", want: "private"},
		{url: "https://[64:ff9b::a00:1]/", want: "private"},
		{url: "https://224.0.0.1/", want: "private"},
		{url: "http://127.0.0.1:8080/hook", loopback: true, want: ""},
		{url: "https://localhost/hook", loopback: true, want: ""},
		{url: "http://[::1]:9000/", loopback: true, want: ""},
		{url: "ws://127.0.0.1/", loopback: true, want: "https"},
		{url: "http://10.0.0.1/", loopback: true, want: "https"},
		{url: "https://10.0.0.1/", loopback: true, want: "private"},
	}
	for _, tt := range tests {
		err := Policy{AllowLoopback: tt.loopback}.Check(tt.url)
		if tt.want == "" {
			if err != nil {
				t.Errorf("Check(%q, loopback=%v) = %v, want nil", tt.url, tt.loopback, err)
			}
			continue
		}
		var fe *fault.Error
		if !errors.As(err, &fe) || !errors.Is(err, fault.ErrInvalid) || fe.Param != "url" ||
			fe.Code != "invalid_url" || !strings.Contains(fe.Message, tt.want) {
			t.Errorf("Check(%q, loopback=%v) = %v, want invalid_url on url saying %q",
				tt.url, tt.loopback, err, tt.want)
		}
	}
}

func TestPolicyAllowDial(t *testing.T) {
	tests := []struct {
		address  string
		loopback bool
		ok       bool
	}{
		{"93.184.215.14:443", false, true},
		{"[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443", false, true},
		{"127.0.0.1:443", false, false},
		{"127.0.0.1:443", true, true},
		{"[::1]:80", true, true},
		{"10.1.2.3:443", true, false},
		{"169.254.169.254:80", false, false},
		{"[::ffff:192.168.0.1]:443", false, false},
		{"not-an-address", false, false},
		{"example.com:443", false, false}, // the dialer passes resolved addresses only
	}
	for _, tt := range tests {
		err := Policy{AllowLoopback: tt.loopback}.allowDial("tcp", tt.address, nil)
		if (err == nil) != tt.ok {
			t.Errorf("allowDial(%q, loopback=%v) = %v, want ok=%v", tt.address, tt.loopback,
				err, tt.ok)
		}
	}
}
