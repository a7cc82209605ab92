package tokens

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"regexp"
)

// Id and secret prefixes, as the published API shows them.
const (
	PrefixSession      = "sess_"
	PrefixClientSecret = "cs_"
	PrefixSecretKey    = "sk_"
	PrefixCardToken    = "tok_card_"
	PrefixNetworkToken = "nt_"
)

// newID returns prefix followed by 128 random bits in hex.
func newID(prefix string) string { return prefix + randomHex(16) }

// NewSecret returns prefix followed by 256 random bits in hex. Secrets are
// long enough that a plain SHA-256 is a safe way to store them: there is
// nothing to brute-force.
func NewSecret(prefix string) string { return prefix + randomHex(32) }

func randomHex(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error since Go 1.24; it crashes the
	// program instead if the system's source fails.
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// HashSecret is how secrets are stored and looked up.
func HashSecret(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// sameHash compares two secret hashes in constant time.
func sameHash(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

var (
	sessionIDPattern      = regexp.MustCompile(`^sess_[0-9a-f]{32}$`)
	cardTokenIDPattern    = regexp.MustCompile(`^tok_card_[0-9a-f]{32}$`)
	networkTokenIDPattern = regexp.MustCompile(`^nt_[0-9a-f]{32}$`)
)
