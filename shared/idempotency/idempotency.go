// Package idempotency is what the HTTP boundary (which honours
// Idempotency-Key) and the store (which keeps the keys) agree on: a
// request's claim on a key, and the first response kept under it.
package idempotency

import "time"

// TTL is how long a key's first response is kept for replay.
const TTL = 24 * time.Hour

// Lease is how long a claim holds a key before the next request with it
// may take the key over. It is longer than any handler may run (the admin
// function's timeout is 10 s, and a claim is taken just before the
// handler), so a live request is never overtaken; and it is short, so a
// request killed after claiming (timeout, crash, out of memory) blocks its
// key for a minute, not for the whole TTL.
const Lease = 60 * time.Second

// StoredResponse is the first response given under an Idempotency-Key.
type StoredResponse struct {
	BodyHash string            `dynamodbav:"bodyHash"`
	Done     bool              `dynamodbav:"done"`
	Status   int               `dynamodbav:"status"`
	Headers  map[string]string `dynamodbav:"headers"`
	Body     string            `dynamodbav:"body"`
}

// Claim is one request's hold on an Idempotency-Key.
type Claim struct {
	Scope    string // the key, hashed with the caller, route and path
	BodyHash string
	// Holder is random per request: only the request holding the key may
	// complete or release it.
	Holder  string
	Now     time.Time
	Lease   time.Time // the holder's until then; after it, a retry may take the key over
	Expires time.Time // the key and its response are forgotten then
}
