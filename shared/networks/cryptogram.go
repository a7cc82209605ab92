package networks

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"

	"github.com/atlas-network-tokens/atlas/shared/secret"
)

// A sandbox cryptogram is 20 bytes, sent as 28 standard Base64 characters
// (with one '=' of padding), the size and encoding of a Visa TAVV, a
// Mastercard UCAF and an Amex token data block A:
//
//	byte  0      format byte of the network (Visa 0x01, Mastercard 0x00, Amex 0x02)
//	bytes 1-4    ATC, big-endian
//	bytes 5-19   the first 15 bytes of HMAC-SHA256(token key, label ||
//	             format byte || reference || ATC), fields length-prefixed
//
// The token key is derived from the root key, the network and the reference
// (see tokenKey), so a cryptogram verifies only for the token it was made
// for, and only with the root key. The 120-bit MAC is what makes a value
// unforgeable; the ATC makes each one distinct. Real scheme cryptograms also
// bind the amount or an unpredictable number; these do not.
const (
	cryptogramBytes  = 20
	cryptogramMACLen = cryptogramBytes - 5
)

var cryptogramEncoding = base64.StdEncoding.Strict()

// cryptogramMAC computes bytes 5-19 of a cryptogram.
func cryptogramMAC(key []byte, format byte, reference string, atc uint32) []byte {
	var counter [4]byte
	binary.BigEndian.PutUint32(counter[:], atc)
	h := keyedHash(key, labelCryptogram, []byte{format}, []byte(reference), counter[:])
	return h[:cryptogramMACLen]
}

// newCryptogram builds the cryptogram for one ATC of a token.
func newCryptogram(root []byte, s *scheme, reference string, atc uint32) Cryptogram {
	key := tokenKey(root, s.network, reference)

	raw := make([]byte, 0, cryptogramBytes)
	raw = append(raw, s.formatByte)
	raw = binary.BigEndian.AppendUint32(raw, atc)
	raw = append(raw, cryptogramMAC(key, s.formatByte, reference, atc)...)

	return Cryptogram{
		Value: secret.New(cryptogramEncoding.EncodeToString(raw)),
		Type:  s.cryptogramType,
		ECI:   s.eci,
		ATC:   atc,
	}
}

// checkCryptogram recomputes a cryptogram from the token key and the ATC it
// carries, and reports that ATC and whether the value is genuine. It compares
// the MAC in constant time. It does not know the token's current ATC; the
// caller checks the ATC's range.
func checkCryptogram(root []byte, s *scheme, reference, value string) (uint32, bool) {
	if len(value) != cryptogramEncoding.EncodedLen(cryptogramBytes) {
		return 0, false
	}
	raw, err := cryptogramEncoding.DecodeString(value)
	if err != nil || len(raw) != cryptogramBytes || raw[0] != s.formatByte {
		return 0, false
	}

	atc := binary.BigEndian.Uint32(raw[1:5])
	key := tokenKey(root, s.network, reference)
	want := cryptogramMAC(key, s.formatByte, reference, atc)
	if !hmac.Equal(raw[5:], want) {
		return 0, false
	}
	return atc, true
}
