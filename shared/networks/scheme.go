package networks

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/atlas-network-tokens/atlas/shared/card"
)

// Cryptogram types, as returned in Cryptogram.Type.
const (
	// TypeTAVV is Visa's Token Authentication Verification Value.
	TypeTAVV = "TAVV"
	// TypeUCAF is Mastercard's DSRP cryptogram in UCAF form (MDES dsrpType
	// UCAF), the form MDES returns for e-commerce.
	TypeUCAF = "UCAF"
	// TypeAmexBlockA is American Express's 20-byte token cryptogram, called
	// Token Data Block A by acquirers.
	TypeAmexBlockA = "TOKEN_DATA_BLOCK_A"
)

// scheme is what differs between the three simulated networks. The values
// are documented, with their sources, in doc.go.
type scheme struct {
	network Network
	brand   card.Brand

	// tokenBINs are the sandbox's token BIN ranges. The first is used unless
	// the card's own BIN equals it, so a token BIN never equals the card BIN.
	tokenBINs   [2]string
	tokenLength int

	referencePrefix string // followed by 32 random hex digits (128 bits)
	parPrefix       string // EMVCo BIN controller identifier, 4 characters

	cryptogramType string
	eci            string
	formatByte     byte // first byte of the 20-byte cryptogram
}

var schemes = map[Network]*scheme{
	Visa: {
		network:         Visa,
		brand:           card.Visa,
		tokenBINs:       [2]string{"489537", "489538"},
		tokenLength:     16,
		referencePrefix: "",
		parPrefix:       "V001",
		cryptogramType:  TypeTAVV,
		eci:             "07",
		formatByte:      0x01,
	},
	Mastercard: {
		network:         Mastercard,
		brand:           card.Mastercard,
		tokenBINs:       [2]string{"522450", "522451"},
		tokenLength:     16,
		referencePrefix: "DM4MMC",
		parPrefix:       "5001",
		cryptogramType:  TypeUCAF,
		eci:             "06",
		formatByte:      0x00, // below 0x40, so the Base64 form starts with A-P
	},
	Amex: {
		network:         Amex,
		brand:           card.Amex,
		tokenBINs:       [2]string{"374800", "374801"},
		tokenLength:     15,
		referencePrefix: "AETS",
		parPrefix:       "A001",
		cryptogramType:  TypeAmexBlockA,
		eci:             "05",
		formatByte:      0x02,
	},
}

// tokenBIN picks the token BIN range for a card: the first one, or the
// second when the card's own BIN is the first.
func (s *scheme) tokenBIN(cardBIN string) string {
	if cardBIN == s.tokenBINs[0] {
		return s.tokenBINs[1]
	}
	return s.tokenBINs[0]
}

// newReference returns a fresh token reference carrying 128 random bits.
func (s *scheme) newReference() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random reference: %w", err)
	}
	return s.referencePrefix + hex.EncodeToString(b[:]), nil
}

// maxReferenceLength bounds the references the simulators accept; MDES
// allows 64 characters for tokenUniqueReference.
const maxReferenceLength = 64
