package envelope

import (
	"encoding/binary"
	"errors"
)

// Context names where a sealed value belongs. All three fields are required.
// It is sent to KMS as the data key's encryption context and authenticated as
// the AEAD's additional data, so a value opens only under the Context it was
// sealed with.
//
// The fields are not secret: KMS records the encryption context in CloudTrail.
// Never put a PAN or other secret in them.
type Context struct {
	Merchant string // the merchant that owns the value
	Record   string // the record holding it, e.g. the token id
	Purpose  string // which field it is, e.g. "pan" or "expiry"
}

// errContext is returned when a Context field is empty: a programming error in
// the caller, not a bad sealed value, so it is deliberately not ErrOpen.
var errContext = errors.New("envelope: encryption context needs merchant, record and purpose")

func (c Context) validate() error {
	if c.Merchant == "" || c.Record == "" || c.Purpose == "" {
		return errContext
	}
	return nil
}

// kmsContext is the encryption context sent to KMS.
func (c Context) kmsContext() map[string]string {
	return map[string]string{
		"merchant": c.Merchant,
		"record":   c.Record,
		"purpose":  c.Purpose,
	}
}

// additionalData is the AEAD's additional authenticated data: the format
// version byte, then each Context field in a fixed order as a 4-byte
// big-endian length followed by its bytes. The length prefixes make the
// encoding unambiguous: ("a", "bc") and ("ab", "c") give different bytes.
func additionalData(version byte, c Context) []byte {
	fields := [...]string{c.Merchant, c.Record, c.Purpose}

	size := 1
	for _, f := range fields {
		size += 4 + len(f)
	}
	ad := make([]byte, 0, size)
	ad = append(ad, version)
	for _, f := range fields {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(f)))
		ad = append(ad, f...)
	}
	return ad
}
