// Package signature signs and verifies HTTP message bodies with a shared
// secret: HMAC-SHA256 over "<unix seconds>.<body>", sent in one header as
//
//	t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// The timestamp is signed with the body, so a captured message cannot be
// replayed once it falls outside the receiver's tolerance. Several v1
// entries may be present while a secret is being rotated; one match is
// enough.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors Verify returns. None of them carries the header or the body.
var (
	ErrMalformed = errors.New("signature: malformed header")
	ErrStale     = errors.New("signature: timestamp outside tolerance")
	ErrMismatch  = errors.New("signature: no matching signature")
)

// Sign returns the header value for body, signed at time t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// DefaultTolerance is the clock skew Verify allows when given none.
const DefaultTolerance = 5 * time.Minute

// Verify checks a header made by Sign against body, as received and before
// any parsing. The timestamp must be within tolerance of now, either way
// (DefaultTolerance when tolerance is not positive), and one of the v1
// entries must be the MAC; entries with other names are ignored, so new
// schemes can be added. MACs are compared in constant time.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sigs, err := parse(header)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrMalformed
	}
	skew := now.Sub(time.Unix(secs, 0))
	if skew > tolerance || skew < -tolerance {
		return ErrStale
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(want, s) {
			return nil
		}
	}
	return ErrMismatch
}

func parse(header string) (ts string, sigs [][]byte, err error) {
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, ErrMalformed
		}
		switch k {
		case "t":
			if ts != "" || !allDigits(v) {
				return "", nil, ErrMalformed
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return "", nil, ErrMalformed
			}
			sigs = append(sigs, sig)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return "", nil, ErrMalformed
	}
	return ts, sigs, nil
}

// allDigits reports whether s is 1 to 18 ASCII digits: a Unix time that
// fits an int64.
func allDigits(s string) bool {
	if len(s) == 0 || len(s) > 18 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
