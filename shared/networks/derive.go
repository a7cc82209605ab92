package networks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/card"
	"github.com/atlas-network-tokens/atlas/shared/secret"
)

// Every value the sandbox derives is an HMAC-SHA256 under the root key (or a
// per-token key derived from it) over a label naming its purpose followed by
// length-prefixed fields. The label keeps one derivation's output from ever
// standing in for another's; the length prefixes keep ("ab","c") and
// ("a","bc") apart.
const (
	labelTokenKey   = "atlas-sandbox/v1/token-key"
	labelTokenPAN   = "atlas-sandbox/v1/token-pan"
	labelPAR        = "atlas-sandbox/v1/par"
	labelExpiry     = "atlas-sandbox/v1/token-expiry"
	labelCryptogram = "atlas-sandbox/v1/cryptogram"
	labelNotify     = "atlas-sandbox/v1/notification-secret"
)

// keyedHash returns HMAC-SHA256(key, label || len(f1) || f1 || len(f2) || f2
// ...), each length a big-endian uint16. Fields longer than 65535 bytes are
// not used here.
func keyedHash(key []byte, label string, fields ...[]byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(label))
	var n [2]byte
	for _, f := range fields {
		binary.BigEndian.PutUint16(n[:], uint16(len(f)))
		mac.Write(n[:])
		mac.Write(f)
	}
	return mac.Sum(nil)
}

// tokenKey derives a token's own 32-byte cryptogram key from the root key,
// the network and the reference. It is never stored: anyone holding the root
// key can derive it again, which is how Verify works without a stored copy.
func tokenKey(root []byte, network Network, reference string) []byte {
	return keyedHash(root, labelTokenKey, []byte(network), []byte(reference))
}

// tokenPAN derives the token PAN of one generation of a token: the token BIN,
// then digits drawn from a keyed hash, then the Luhn check digit.
func tokenPAN(root []byte, s *scheme, acct Account) secret.PAN {
	var gen [4]byte
	binary.BigEndian.PutUint32(gen[:], acct.Generation)

	digits := make([]byte, 0, s.tokenLength)
	digits = append(digits, acct.TokenBIN...)
	var counter [4]byte
	for round := uint32(0); len(digits) < s.tokenLength-1; round++ {
		binary.BigEndian.PutUint32(counter[:], round)
		h := keyedHash(root, labelTokenPAN, []byte(s.network), []byte(acct.Reference),
			[]byte(acct.TokenBIN), gen[:], counter[:])
		for _, b := range h {
			// Rejection keeps the digits uniform: 250 is the largest
			// multiple of 10 that fits in a byte.
			if b < 250 && len(digits) < s.tokenLength-1 {
				digits = append(digits, '0'+b%10)
			}
		}
	}
	digits = append(digits, card.LuhnCheckDigit(string(digits)))
	return secret.NewPAN(string(digits))
}

// parEncoding spells the PAR body in upper-case letters and digits.
var parEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// par derives the 29-character Payment Account Reference for a card account:
// the network's 4-character BIN controller identifier and 25 characters of a
// keyed hash of the PAN. Equal PANs give equal PARs; without the root key the
// PAR says nothing about the PAN.
func par(root []byte, s *scheme, pan secret.PAN) string {
	h := keyedHash(root, labelPAR, []byte(pan.Reveal()))
	return s.parPrefix + parEncoding.EncodeToString(h)[:25]
}

// tokenExpiry sets a new token's expiry three years after now, in a month the
// network picks from the reference: unrelated to the card's expiry, as with
// real token services.
func tokenExpiry(root []byte, s *scheme, reference string, now time.Time) (month, year int) {
	h := keyedHash(root, labelExpiry, []byte(s.network), []byte(reference))
	// The modulo bias (65536 is not a multiple of 12) is harmless here.
	month = 1 + int(binary.BigEndian.Uint16(h)%12)
	return month, now.UTC().Year() + 3
}
