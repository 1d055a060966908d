package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"onboarding/shared/fault"
	"onboarding/shared/idempotency"
	"onboarding/shared/redact"
)

// IdempotencyStore keeps first responses by key.
type IdempotencyStore interface {
	// Claim takes c.Scope for c's request when it is free, or when its last
	// holder's lease has passed and it came with the same body without
	// completing (one taker wins); otherwise it returns what is stored under
	// it (nil when claimed).
	Claim(ctx context.Context, c idempotency.Claim) (*idempotency.StoredResponse, error)
	// Complete stores the response of the request that holds c.
	Complete(ctx context.Context, c idempotency.Claim, res idempotency.StoredResponse) error
	// Release frees c's key after a failure on our side, so that the
	// client's retry runs again; a key taken over meanwhile is left alone.
	Release(ctx context.Context, c idempotency.Claim) error
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
	c := idempotency.Claim{
		Scope:    hashHex(req.UserID(), req.Event.RouteKey, req.Event.RawPath, key),
		BodyHash: hashHex(string(req.Body)),
		Holder:   rand.Text(),
		Now:      now, Lease: now.Add(idempotency.Lease), Expires: now.Add(idempotency.TTL),
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
	if err := rt.idem.Complete(ctx, c, idempotency.StoredResponse{BodyHash: c.BodyHash, Done: true,
		Status: res.StatusCode, Headers: res.Headers, Body: res.Body}); err != nil {
		rt.log.ErrorContext(ctx, "store idempotent response", "error", redact.Text(err.Error()))
	}
	return res, herr
}
