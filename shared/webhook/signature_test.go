package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testSecret = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"

// Known answer: HMAC-SHA256 keyed with the secret string over
// "1737461400." + body, computed independently of Sign.
func TestSignKnownAnswer(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"network_token.created"}`)
	at := time.Unix(1737461400, 0)
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte("1737461400." + string(body)))
	want := "t=1737461400,v1=" + hex.EncodeToString(m.Sum(nil))

	if got := Sign(testSecret, at, body); got != want {
		t.Errorf("Sign = %s\nwant   %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"network_token.created","data":{}}`)
	now := time.Unix(1737461400, 0)
	good := Sign(testSecret, now, body)
	other := Sign("whsec_other", now, body)
	v1Of := func(h string) string { _, v, _ := strings.Cut(h, ",v1="); return v }

	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"good", testSecret, good, body, now, nil},
		{"good, clock 4m59s ahead", testSecret, good, body, now.Add(299 * time.Second), nil},
		{"good, clock 4m59s behind", testSecret, good, body, now.Add(-299 * time.Second), nil},
		{"spaces after commas", testSecret, strings.ReplaceAll(good, ",", ", "), body, now, nil},
		{"wrong secret", "whsec_other", good, body, now, ErrSignatureMismatch},
		{"tampered body", testSecret, good, []byte(strings.Replace(string(body), "created",
			"deleted", 1)), now, ErrSignatureMismatch},
		{"empty body", testSecret, good, nil, now, ErrSignatureMismatch},
		{"timestamp changed", testSecret, strings.Replace(good, "t=1737461400", "t=1737461401",
			1), body, now, ErrSignatureMismatch},
		{"stale", testSecret, good, body, now.Add(301 * time.Second), ErrSignatureExpired},
		{"from the future", testSecret, good, body, now.Add(-301 * time.Second),
			ErrSignatureExpired},
		{"rotation: old then new", testSecret, other + ",v1=" + v1Of(good), body, now, nil},
		{"rotation: new then old", testSecret, good + ",v1=" + v1Of(other), body, now, nil},
		{"rotation: neither", testSecret, other + ",v1=" + v1Of(other), body, now,
			ErrSignatureMismatch},
		{"unknown scheme ignored", testSecret, good + ",v0=abc", body, now, nil},
		{"only an unknown scheme", testSecret, "t=1737461400,v0=" + v1Of(good), body, now,
			ErrSignatureHeader},
		{"empty header", testSecret, "", body, now, ErrSignatureHeader},
		{"no timestamp", testSecret, "v1=" + v1Of(good), body, now, ErrSignatureHeader},
		{"no v1", testSecret, "t=1737461400", body, now, ErrSignatureHeader},
		{"two timestamps", testSecret, "t=1737461400," + good, body, now, ErrSignatureHeader},
		{"timestamp not a number", testSecret, "t=soon,v1=" + v1Of(good), body, now,
			ErrSignatureHeader},
		{"negative timestamp", testSecret, "t=-1,v1=" + v1Of(good), body, now,
			ErrSignatureHeader},
		{"huge timestamp", testSecret, "t=99999999999999999999,v1=" + v1Of(good), body, now,
			ErrSignatureHeader},
		{"v1 not hex", testSecret, "t=1737461400,v1=" + strings.Repeat("zz", 32), body, now,
			ErrSignatureHeader},
		{"v1 too short", testSecret, "t=1737461400,v1=" + v1Of(good)[:62], body, now,
			ErrSignatureHeader},
		{"part without =", testSecret, good + ",garbage", body, now, ErrSignatureHeader},
		{"uppercase hex accepted", testSecret, "t=1737461400,v1=" + strings.ToUpper(v1Of(good)),
			body, now, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyTolerance(t *testing.T) {
	body := []byte(`{}`)
	sent := time.Unix(1737461400, 0)
	header := Sign(testSecret, sent, body)
	tests := []struct {
		name      string
		tolerance time.Duration
		late      time.Duration
		want      error
	}{
		{"default allows 5m", 0, 5 * time.Minute, nil},
		{"default refuses 5m1s", 0, 5*time.Minute + time.Second, ErrSignatureExpired},
		{"negative means default", -time.Second, 4 * time.Minute, nil},
		{"tight 10s refuses 11s", 10 * time.Second, 11 * time.Second, ErrSignatureExpired},
		{"tight 10s allows 10s", 10 * time.Second, 10 * time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(testSecret, header, body, sent.Add(tt.late), tt.tolerance)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// The standard-library-only snippet in doc.go, as a receiver would paste
// it, must agree with Verify.
func TestDocSnippetAgreesWithVerify(t *testing.T) {
	body := []byte(`{"id":"evt_2"}`)
	now := time.Unix(1737461400, 0)
	good := Sign(testSecret, now, body)
	cases := []struct {
		header string
		body   []byte
		now    time.Time
	}{
		{good, body, now},
		{good, []byte(`{"id":"evt_3"}`), now},
		{good, body, now.Add(10 * time.Minute)},
		{Sign("whsec_x", now, body) + ",v1=" + strings.SplitN(good, "v1=", 2)[1], body, now},
		{"t=1737461400", body, now},
	}
	for i, c := range cases {
		want := Verify(testSecret, c.header, c.body, c.now, 5*time.Minute) == nil
		if got := snippetVerified(testSecret, c.header, c.body, c.now); got != want {
			t.Errorf("case %d: snippet says %v, Verify says %v", i, got, want)
		}
	}
}

// snippetVerified is doc.go's standard-library snippet, unchanged.
func snippetVerified(secret, header string, body []byte, now time.Time) bool {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sent, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sent, 0)).Abs() > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func BenchmarkSign(b *testing.B) {
	body := []byte(strings.Repeat("x", 400))
	now := time.Now()
	for b.Loop() {
		Sign(testSecret, now, body)
	}
}

func BenchmarkVerify(b *testing.B) {
	body := []byte(strings.Repeat("x", 400))
	now := time.Now()
	header := Sign(testSecret, now, body)
	for b.Loop() {
		if err := Verify(testSecret, header, body, now, 0); err != nil {
			b.Fatal(err)
		}
	}
}
