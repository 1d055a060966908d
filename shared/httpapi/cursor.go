package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"onboarding/shared/fault"
)

// Cursors signs the nextCursor of list routes and checks the cursor a
// caller sends back, so that a cursor reaches the store only unchanged and
// only on the list that gave it out: the same route, path (organisation,
// partner) and filters. A cursor is the store's (base64url of the last key
// read), a dot, and 128 bits of HMAC-SHA256.
type Cursors struct{ key []byte }

// NewCursors signs with key (the deployment's; see ddb.Store.CursorKey).
func NewCursors(key []byte) *Cursors {
	if len(key) < 32 {
		panic("httpapi: a cursor key needs at least 32 bytes")
	}
	return &Cursors{key: key}
}

// sign is the signature of inner on r's list. The limit is left out: it may
// change from page to page.
func (c *Cursors) sign(r *Request, inner string) string {
	filters := map[string]string{}
	for k, v := range r.Event.QueryStringParameters {
		if k != "cursor" && k != "limit" && v != "" {
			filters[k] = v
		}
	}
	list, _ := json.Marshal([]any{r.Event.RouteKey, r.Event.PathParameters, filters}) // maps marshal sorted
	m := hmac.New(sha256.New, c.key)
	m.Write(list)
	m.Write([]byte{0})
	m.Write([]byte(inner))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Open returns the store's cursor inside r's cursor parameter ("" for the
// first page), or a 400 when it was not given out by this list or was
// changed.
func (c *Cursors) Open(r *Request) (string, error) {
	cursor := r.Query("cursor")
	if cursor == "" {
		return "", nil
	}
	inner, sig, ok := strings.Cut(cursor, ".")
	if !ok || inner == "" || !hmac.Equal([]byte(sig), []byte(c.sign(r, inner))) {
		return "", fault.BadCursor()
	}
	return inner, nil
}

// Seal signs the store's next cursor for r's list ("" stays "": the last page).
func (c *Cursors) Seal(r *Request, next string) string {
	if next == "" {
		return ""
	}
	return next + "." + c.sign(r, next)
}

// SealNext is Seal for a page's optional nextCursor.
func (c *Cursors) SealNext(r *Request, next *string) *string {
	if next == nil || *next == "" {
		return nil
	}
	s := c.Seal(r, *next)
	return &s
}
