package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"onboarding/shared/fault"
)

// IdempotencyTTL is how long a key's first response is kept for replay.
const IdempotencyTTL = 24 * time.Hour

// StoredResponse is the first response given under an Idempotency-Key.
type StoredResponse struct {
	BodyHash string            `dynamodbav:"bodyHash"`
	Done     bool              `dynamodbav:"done"`
	Status   int               `dynamodbav:"status"`
	Headers  map[string]string `dynamodbav:"headers"`
	Body     string            `dynamodbav:"body"`
}

// IdempotencyStore keeps first responses by key.
type IdempotencyStore interface {
	// Claim reserves key for a request whose body hashes to bodyHash, or
	// returns what an earlier request under key stored (nil when claimed).
	Claim(ctx context.Context, key, bodyHash string, expires time.Time) (*StoredResponse, error)
	// Complete stores the response of the claiming request.
	Complete(ctx context.Context, key string, res StoredResponse) error
	// Release frees a claimed key after a failure on our side, so that the
	// client's retry runs again.
	Release(ctx context.Context, key string) error
}

func hashHex(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// idempotent runs h once per (caller, route, path, key): the same key and
// body replay the first response; the same key with another body is a 422;
// a key whose first request is still running is a 409.
func (rt *Router) idempotent(ctx context.Context, req *Request, key string, h HandlerFunc) (Response, error) {
	if len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		e := fault.New(fault.Invalid, "the request has invalid fields")
		e.Fields = []fault.FieldError{{Field: "Idempotency-Key", Code: string(fault.Invalid), Message: "1 to 255 visible ASCII characters"}}
		return Response{}, e
	}
	scope := hashHex(req.UserID(), req.Event.RouteKey, req.Event.RawPath, key)
	bodyHash := hashHex(string(req.Body))
	stored, err := rt.idem.Claim(ctx, scope, bodyHash, time.Now().Add(IdempotencyTTL))
	if err != nil {
		return Response{}, err
	}
	if stored != nil {
		switch {
		case stored.BodyHash != bodyHash:
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
			rt.idem.Release(ctx, scope)
			return res, herr
		}
		res = problemResponse(herr, req.Event.RequestContext.RequestID)
	}
	if err := rt.idem.Complete(ctx, scope, StoredResponse{BodyHash: bodyHash, Done: true,
		Status: res.StatusCode, Headers: res.Headers, Body: res.Body}); err != nil {
		rt.log.ErrorContext(ctx, "store idempotent response", "error", err.Error())
	}
	return res, herr
}
