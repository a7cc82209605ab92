// Package envelope seals small secrets (card numbers, expiry dates, token
// PANs) with KMS envelope encryption: a fresh 256-bit data key from KMS
// GenerateDataKey per value, and AES-256-GCM from the standard library.
//
// # Sealed format
//
// A sealed value is one self-describing byte string:
//
//	version       1 byte, currently 1
//	keyLength     2 bytes, big-endian: length of the encrypted data key
//	encryptedKey  keyLength bytes, the CiphertextBlob KMS returned
//	nonce         12 bytes, random
//	ciphertext    AES-256-GCM output: sealed plaintext plus a 16-byte tag
//
// # Binding to a record
//
// Every value is sealed under a Context naming the merchant, the record and
// the purpose of the value. The context is sent to KMS as the encryption
// context of the data key, so KMS releases the key only for the same context,
// and it is also the AEAD's additional authenticated data, together with the
// version byte. A value copied to another record, another merchant or another
// field therefore fails to open, as does a value with any byte changed.
//
// # Nonces
//
// A GCM nonce must never repeat under one key: a repeat reveals the XOR of two
// plaintexts and lets an attacker forge tags. Seal draws a fresh random 96-bit
// nonce from crypto/rand for every value, and every value also has its own
// data key, so each key encrypts exactly one message.
//
// # Data keys in memory
//
// The plaintext data key is zeroed as soon as the AES cipher is built. This is
// best effort: the expanded key schedule inside crypto/aes, and any copies the
// AWS SDK made while decoding the KMS response, are out of this package's
// reach and are left to the garbage collector.
package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMS is the part of *kms.Client a Sealer calls.
type KMS interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput,
		optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput,
		optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// ErrOpen means a sealed value cannot be opened: it is malformed, was changed,
// or was sealed under a different Context. Open returns this very error, never
// wrapped with detail, whichever check failed (parsing, KMS rejecting the
// encrypted key as InvalidCiphertextException, or the GCM tag), so its text is
// no oracle. KMS being unreachable, throttling or refusing the key (disabled,
// access denied) is not ErrOpen; those errors are returned wrapped, for the
// caller to classify with errors.As and smithy.APIError.
var ErrOpen = errors.New("envelope: cannot open sealed value")

const (
	version       = 1
	dataKeyBytes  = 32 // AES-256
	nonceBytes    = 12 // the standard GCM nonce size
	tagBytes      = 16
	headerBytes   = 1 + 2 // version, encrypted key length
	maxKeyBlobLen = 1<<16 - 1
)

// Sealer seals and opens values with data keys from one KMS key. It is safe
// for concurrent use if its KMS client is, as *kms.Client is.
type Sealer struct {
	kms   KMS
	keyID string
}

// New returns a Sealer that asks client for data keys under keyID: a key id,
// key ARN, alias name or alias ARN.
//
// Open does not name the key to KMS: KMS finds it from the encrypted data
// key, so values sealed before an alias was moved to a new key still open.
// Limit which keys the caller may use for Decrypt with its IAM policy.
func New(client KMS, keyID string) *Sealer {
	return &Sealer{kms: client, keyID: keyID}
}

// Seal encrypts plaintext under a fresh data key bound to ec and returns the
// sealed value. An empty plaintext is allowed and opens to an empty slice.
// Errors never include the plaintext or key material.
func (s *Sealer) Seal(ctx context.Context, plaintext []byte, ec Context) ([]byte, error) {
	if err := ec.validate(); err != nil {
		return nil, err
	}
	if s.keyID == "" {
		return nil, errors.New("envelope: no KMS key configured")
	}

	out, err := s.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(s.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: ec.kmsContext(),
	})
	if err != nil {
		return nil, fmt.Errorf("envelope: generating data key: %w", err)
	}
	if out == nil {
		return nil, errors.New("envelope: generating data key: KMS returned no output")
	}
	return seal(out.Plaintext, out.CiphertextBlob, plaintext, ec)
}

// seal is Seal after the KMS call: it encrypts plaintext under dataKey, which
// it zeroes, and frames the result with encryptedKey.
func seal(dataKey, encryptedKey, plaintext []byte, ec Context) ([]byte, error) {
	if len(encryptedKey) == 0 || len(encryptedKey) > maxKeyBlobLen {
		clear(dataKey)
		return nil, errors.New("envelope: KMS returned an unusable encrypted data key")
	}
	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, fmt.Errorf("envelope: KMS returned an unusable data key: %w", err)
	}

	size := headerBytes + len(encryptedKey) + nonceBytes + len(plaintext) + tagBytes
	sealed := make([]byte, 0, size)
	sealed = append(sealed, version)
	sealed = binary.BigEndian.AppendUint16(sealed, uint16(len(encryptedKey)))
	sealed = append(sealed, encryptedKey...)

	nonce := make([]byte, nonceBytes)
	rand.Read(nonce) // never returns an error; the program crashes if the OS RNG fails
	sealed = append(sealed, nonce...)

	return aead.Seal(sealed, nonce, plaintext, additionalData(version, ec)), nil
}

// Open checks and decrypts a value made by Seal under the same Context. A
// malformed, altered or misplaced value gives an error matching ErrOpen; a
// KMS failure (unreachable, throttled, key disabled) gives that KMS error,
// wrapped.
func (s *Sealer) Open(ctx context.Context, sealed []byte, ec Context) ([]byte, error) {
	if err := ec.validate(); err != nil {
		return nil, err
	}
	parsed, ok := parse(sealed)
	if !ok {
		return nil, ErrOpen
	}

	out, err := s.kms.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    parsed.encryptedKey,
		EncryptionContext: ec.kmsContext(),
	})
	if err != nil {
		var rejected *types.InvalidCiphertextException
		if errors.As(err, &rejected) {
			return nil, ErrOpen // the encryption context or the encrypted key is wrong
		}
		return nil, fmt.Errorf("envelope: decrypting data key: %w", err)
	}
	if out == nil {
		return nil, errors.New("envelope: decrypting data key: KMS returned no output")
	}

	return open(out.Plaintext, parsed, ec)
}

// open is Open after the KMS call: it checks and decrypts parsed under
// dataKey, which it zeroes.
func open(dataKey []byte, parsed sealedValue, ec Context) ([]byte, error) {
	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, fmt.Errorf("envelope: KMS returned an unusable data key: %w", err)
	}
	plaintext, err := aead.Open(nil, parsed.nonce, parsed.ciphertext,
		additionalData(parsed.version, ec))
	if err != nil {
		return nil, ErrOpen
	}
	return plaintext, nil
}

// newAEAD builds AES-256-GCM from a plaintext data key and then zeroes the key.
func newAEAD(dataKey []byte) (cipher.AEAD, error) {
	defer clear(dataKey)

	if len(dataKey) != dataKeyBytes {
		return nil, fmt.Errorf("data key is %d bytes, want %d", len(dataKey), dataKeyBytes)
	}
	block, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealedValue is a sealed byte string split into its parts. The slices alias
// the input.
type sealedValue struct {
	version      byte
	encryptedKey []byte
	nonce        []byte
	ciphertext   []byte
}

// parse splits sealed into its parts and reports whether it is well formed:
// a known version, a non-empty encrypted key that fits, a whole nonce and at
// least a GCM tag of ciphertext.
func parse(sealed []byte) (sealedValue, bool) {
	if len(sealed) < headerBytes || sealed[0] != version {
		return sealedValue{}, false
	}
	keyLength := int(binary.BigEndian.Uint16(sealed[1:headerBytes]))
	rest := sealed[headerBytes:]
	if keyLength == 0 || len(rest) < keyLength+nonceBytes+tagBytes {
		return sealedValue{}, false
	}
	return sealedValue{
		version:      sealed[0],
		encryptedKey: rest[:keyLength],
		nonce:        rest[keyLength : keyLength+nonceBytes],
		ciphertext:   rest[keyLength+nonceBytes:],
	}, true
}
