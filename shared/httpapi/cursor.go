package httpapi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"onboarding/shared/fault"
)

// Cursors seals the nextCursor of list routes and opens the cursor a
// caller sends back, so that a cursor reaches the store only unchanged and
// only on the list that gave it out (the same route, path (organisation,
// partner), filters and caller), and so that its contents cannot be read:
// the store's cursor is the last key a query read, which may be an item the
// caller does not see (a search entry's key holds a person's email and
// name, and a unit-scoped caller's page is filtered after the query). A
// cursor is base64url of a 96-bit nonce and the store's cursor sealed with
// AES-256-GCM, the list as additional data.
type Cursors struct{ aead cipher.AEAD }

// NewCursors seals with a key derived from key (the deployment's; see
// ddb.Store.CursorKey).
func NewCursors(key []byte) *Cursors {
	if len(key) < 32 {
		panic("httpapi: a cursor key needs at least 32 bytes")
	}
	// A key of its own for cursors: the deployment's key also signs
	// report links.
	m := hmac.New(sha256.New, key)
	m.Write([]byte("list cursors, AES-256-GCM"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Cursors{aead: aead}
}

// list names r's list: what a cursor is bound to. The limit is left out: it
// may change from page to page.
func list(r *Request) []byte {
	filters := map[string]string{}
	for k, v := range r.Event.QueryStringParameters {
		if k != "cursor" && k != "limit" && v != "" {
			filters[k] = v
		}
	}
	b, _ := json.Marshal([]any{r.Event.RouteKey, r.Event.PathParameters, filters, r.UserID()}) // maps marshal sorted
	return b
}

// Open returns the store's cursor inside r's cursor parameter ("" for the
// first page), or a 400 when it was not given out by this list to this
// caller or was changed.
func (c *Cursors) Open(r *Request) (string, error) {
	cursor := r.Query("cursor")
	if cursor == "" {
		return "", nil
	}
	sealed, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	n := c.aead.NonceSize()
	if err != nil || len(sealed) <= n+c.aead.Overhead() {
		return "", fault.BadCursor()
	}
	inner, err := c.aead.Open(nil, sealed[:n], sealed[n:], list(r))
	if err != nil || len(inner) == 0 {
		return "", fault.BadCursor()
	}
	return string(inner), nil
}

// Seal seals the store's next cursor for r's list ("" stays "": the last
// page).
func (c *Cursors) Seal(r *Request, next string) string {
	if next == "" {
		return ""
	}
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(next)+c.aead.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(c.aead.Seal(nonce, nonce, []byte(next), list(r)))
}

// SealNext is Seal for a page's optional nextCursor.
func (c *Cursors) SealNext(r *Request, next *string) *string {
	if next == nil || *next == "" {
		return nil
	}
	s := c.Seal(r, *next)
	return &s
}
