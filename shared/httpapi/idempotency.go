package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"onboarding/shared/fault"
	"onboarding/shared/redact"
)

// IdempotencyTTL is how long a key's first response is kept for replay.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyLease is how long a claim holds a key before the next request
// with it may take the key over. It is longer than any handler may run (the
// admin function's timeout is 10 s, and a claim is taken just before the
// handler), so a live request is never overtaken; and it is short, so a
// request killed after claiming (timeout, crash, out of memory) blocks its
// key for a minute, not for the whole TTL.
const IdempotencyLease = 60 * time.Second

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

// IdempotencyStore keeps first responses by key.
type IdempotencyStore interface {
	// Claim takes c.Scope for c's request when it is free, or when its last
	// holder's lease has passed and it came with the same body without
	// completing (one taker wins); otherwise it returns what is stored under
	// it (nil when claimed).
	Claim(ctx context.Context, c Claim) (*StoredResponse, error)
	// Complete stores the response of the request that holds c.
	Complete(ctx context.Context, c Claim, res StoredResponse) error
	// Release frees c's key after a failure on our side, so that the
	// client's retry runs again; a key taken over meanwhile is left alone.
	Release(ctx context.Context, c Claim) error
}

func hashHex(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// idempotent runs h once per (caller, route, path, key): the same key and
// body replay the first response; the same key with another body is a 422;
// a key whose first request is still running is a 409, and one whose first
// request died is run again once its lease has passed.
func (rt *Router) idempotent(ctx context.Context, req *Request, key string, h HandlerFunc) (Response, error) {
	if len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		e := fault.New(fault.Invalid, "the request has invalid fields")
		e.Fields = []fault.FieldError{{Field: "Idempotency-Key", Code: string(fault.Invalid), Message: "1 to 255 visible ASCII characters"}}
		return Response{}, e
	}
	now := rt.now()
	c := Claim{
		Scope:    hashHex(req.UserID(), req.Event.RouteKey, req.Event.RawPath, key),
		BodyHash: hashHex(string(req.Body)),
		Holder:   rand.Text(),
		Now:      now, Lease: now.Add(IdempotencyLease), Expires: now.Add(IdempotencyTTL),
	}
	stored, err := rt.idem.Claim(ctx, c)
	if err != nil {
		return Response{}, err
	}
	if stored != nil {
		switch {
		case stored.BodyHash != c.BodyHash:
			e := fault.New(fault.Invalid, "this Idempotency-Key was used with a different request body")
			e.Fields = []fault.FieldError{{Field: "Idempotency-Key", Code: "reused", Message: "already used with a different request body"}}
			return Response{}, e
		case !stored.Done:
			return Response{}, fault.New(fault.Conflict, "a request with this Idempotency-Key is still in progress")
		}
		headers := map[string]string{}
		for k, v := range stored.Headers {
			headers[k] = v
		}
		headers["Idempotent-Replayed"] = "true"
		return Response{StatusCode: stored.Status, Headers: headers, Body: stored.Body}, nil
	}
	res, herr := h(ctx, req)
	if herr != nil {
		switch fault.CodeOf(herr) {
		case fault.Internal, fault.Unavailable, fault.TooMany:
			// Nothing was done, or we cannot tell: let a retry run.
			rt.idem.Release(ctx, c)
			return res, herr
		}
		res = problemResponse(herr, req.Event.RequestContext.RequestID)
	}
	if err := rt.idem.Complete(ctx, c, StoredResponse{BodyHash: c.BodyHash, Done: true,
		Status: res.StatusCode, Headers: res.Headers, Body: res.Body}); err != nil {
		rt.log.ErrorContext(ctx, "store idempotent response", "error", redact.Text(err.Error()))
	}
	return res, herr
}
