// Package opaque makes the service's opaque tokens: invitation, leave,
// password reset and email change links, and refresh tokens' secrets. Each
// is 256 random bits, base64url (43 characters), stored only as its hex
// SHA-256: a random token needs no salt or slow hash (it cannot be guessed,
// only stolen), and the hash keeps a leaked table from yielding live links.
package opaque

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// New returns a fresh token and its hash.
func New() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("read token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, Hash(token), nil
}

// Hash is the hex SHA-256 a token is stored under.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Valid reports whether s could be a token at all (43 base64url
// characters), so junk never reaches the store.
func Valid(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}
