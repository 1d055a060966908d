// Package httpapi is the HTTP boundary of the Lambda functions behind API
// Gateway (HTTP API, payload format 2.0): it routes by route key, decodes
// JSON bodies within limits, hands the caller's identity to handlers, maps
// errors to RFC 9457 problem+json once, and logs one line per request.
package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"onboarding/shared/authtoken"
	"onboarding/shared/fault"
	"onboarding/shared/redact"
)

var errSignIn = fault.New(fault.Unauthorized, "sign in first: this route needs a valid access token")

// MaxBody is the largest request body accepted.
const MaxBody = 64 << 10

// Request is one API call.
type Request struct {
	Event events.APIGatewayV2HTTPRequest
	Body  []byte

	userID    string
	sessionID string
}

// Param returns a path parameter.
func (r *Request) Param(name string) string { return r.Event.PathParameters[name] }

// Query returns a query string parameter.
func (r *Request) Query(name string) string { return r.Event.QueryStringParameters[name] }

// UnknownQuery adds to errs each query parameter not among known: a
// parameter the route does not read is named back, not ignored (a
// misspelt filter must not list everything).
func (r *Request) UnknownQuery(errs *fault.Fields, known ...string) {
	names := make([]string, 0, len(r.Event.QueryStringParameters))
	for name := range r.Event.QueryStringParameters {
		if !slices.Contains(known, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		errs.Add(name, "unknown", "not a parameter of this request")
	}
}

// OnlyQuery is UnknownQuery alone: nil, or a 422 naming each parameter
// not among known.
func (r *Request) OnlyQuery(known ...string) error {
	var errs fault.Fields
	r.UnknownQuery(&errs, known...)
	return errs.Err()
}

// Header returns a request header (API Gateway lower-cases names).
func (r *Request) Header(name string) string { return r.Event.Headers[strings.ToLower(name)] }

// BaseURL is where links point: configured when it is set, else the domain
// API Gateway received the request on (requestContext.domainName: its own
// or a custom domain mapped to the API, set by API Gateway and never by the
// client), over HTTPS, the only scheme API Gateway serves. Never the Host or
// X-Forwarded-* headers, which any client sets.
func (r *Request) BaseURL(configured string) string {
	if configured != "" {
		return configured
	}
	return "https://" + r.Event.RequestContext.DomainName
}

// UserID is the signed-in caller's user id (on authed routes), or "".
func (r *Request) UserID() string { return r.userID }

// SessionID is the session the caller's access token was issued in ("" when
// none, or on public routes).
func (r *Request) SessionID() string { return r.sessionID }

// Decode reads the JSON body into v. Unknown fields are ignored (clients may
// be newer than the server); malformed JSON, trailing data or a body that is
// not an object is a 400.
func (r *Request) Decode(v any) error { return r.decode(v, false) }

// DecodeStrict reads the JSON body as Decode does, but a member v does not
// have is a 422 naming it: for routes where a field dropped unseen (a typo
// of "fullRoster", a mapping under another name) would change what the
// request does to people without a word.
func (r *Request) DecodeStrict(v any) error { return r.decode(v, true) }

func (r *Request) decode(v any, strict bool) error {
	body := bytes.TrimSpace(r.Body)
	if len(body) == 0 || body[0] != '{' {
		return fault.New(fault.Malformed, "the request body must be a JSON object")
	}
	// A body of more than one JSON value is malformed, whatever its members.
	if !json.Valid(body) {
		return fault.New(fault.Malformed, "the request body is not one JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			e := fault.New(fault.Invalid, "the request has invalid fields")
			e.Fields = []fault.FieldError{{Field: typeErr.Field, Code: "type", Message: "expected " + typeErr.Type.String()}}
			return e
		}
		// encoding/json has no error type for it: `json: unknown field "x"`.
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok && strict {
			if n, err := strconv.Unquote(name); err == nil {
				name = n
			}
			e := fault.New(fault.Invalid, "the request has invalid fields")
			e.Fields = []fault.FieldError{{Field: cutField(name), Code: "unknown", Message: "not a field of this request"}}
			return e
		}
		return fault.New(fault.Malformed, "the request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return fault.New(fault.Malformed, "the request body has data after the JSON object")
	}
	return nil
}

// cutField keeps a field name the caller sent to a length a problem
// document can carry.
func cutField(name string) string {
	if r := []rune(name); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return name
}

// Response is what a handler returns.
type Response = events.APIGatewayV2HTTPResponse

// JSON returns v as a JSON response.
func JSON(status int, v any) (Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Response{}, fmt.Errorf("encode response: %w", err)
	}
	return Response{StatusCode: status, Body: string(b), Headers: map[string]string{
		"Content-Type": "application/json", "Cache-Control": "no-store",
	}}, nil
}

// HandlerFunc handles one route.
type HandlerFunc func(ctx context.Context, r *Request) (Response, error)

// TokenVerifier checks an access token and returns its claims.
type TokenVerifier interface {
	Verify(token string) (authtoken.Claims, error)
}

// Router dispatches API Gateway events by route key ("POST /orgs/{orgId}/invitations").
type Router struct {
	routes map[string]route
	log    *slog.Logger
	tokens TokenVerifier
	idem   IdempotencyStore
	now    func() time.Time
}

// WithIdempotency makes the authed POST routes honour Idempotency-Key; now
// is the clock of the keys' leases and expiry (time.Now in production).
func (rt *Router) WithIdempotency(s IdempotencyStore, now func() time.Time) *Router {
	rt.idem, rt.now = s, now
	return rt
}

type route struct {
	h      HandlerFunc
	authed bool
	// secret: the body holds a password, so Idempotency-Key is not honoured
	// (a key's record keeps a fast hash of the body for a day).
	secret bool
}

// NewRouter returns an empty router that logs to log and checks the tokens
// of authed routes with tokens (nil when it has none).
func NewRouter(log *slog.Logger, tokens TokenVerifier) *Router {
	return &Router{routes: map[string]route{}, log: log, tokens: tokens}
}

// Public registers a route anyone may call.
func (rt *Router) Public(key string, h HandlerFunc) { rt.routes[key] = route{h: h} }

// Authed registers a route that needs a signed-in caller: a valid bearer
// token, checked before the handler runs. (HTTP API JWT authorizers verify
// only RSA signatures, and a Lambda authorizer cannot answer 401; see README.)
func (rt *Router) Authed(key string, h HandlerFunc) {
	if rt.tokens == nil {
		panic("httpapi: authed route " + key + " on a router without a token verifier")
	}
	rt.routes[key] = route{h: h, authed: true}
}

// AuthedSecret registers an Authed route whose body holds a password. It
// does not honour Idempotency-Key: the key's record would keep a SHA-256 of
// the body, password included, for a day, and a fast hash of a password is
// what argon2id is there to avoid. Replaying such a request is harmless
// anyway (the same password set again, or one more limited email).
func (rt *Router) AuthedSecret(key string, h HandlerFunc) {
	rt.Authed(key, h)
	r := rt.routes[key]
	r.secret = true
	rt.routes[key] = r
}

// Routes lists the registered route keys.
func (rt *Router) Routes() []string {
	keys := make([]string, 0, len(rt.routes))
	for k := range rt.routes {
		keys = append(keys, k)
	}
	return keys
}

// Handle is the Lambda handler.
func (rt *Router) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (res Response, err error) {
	start := time.Now()
	req := &Request{Event: ev}
	requestID := ev.RequestContext.RequestID
	if lc, ok := lambdacontext.FromContext(ctx); ok && requestID == "" {
		requestID = lc.AwsRequestID
	}
	defer func() {
		if p := recover(); p != nil {
			rt.log.ErrorContext(ctx, "panic", "requestId", requestID, "route", ev.RouteKey, "panic", redact.Text(fmt.Sprint(p)), "stack", string(debug.Stack()))
			res, err = problemResponse(errors.New("panic"), requestID), nil
		}
	}()
	res, herr := rt.serve(ctx, req)
	if herr != nil {
		res = problemResponse(herr, requestID)
	}
	attrs := []any{"requestId", requestID, "route", ev.RouteKey, "status", res.StatusCode,
		"ms", time.Since(start).Milliseconds()}
	if uid := req.UserID(); uid != "" {
		attrs = append(attrs, "userId", uid)
	}
	switch {
	case res.StatusCode >= 500:
		// Masked here as well as by the functions' logger: the error may
		// quote keys and request data, and a router may be given any logger.
		rt.log.ErrorContext(ctx, "request failed", append(attrs, "error", redact.Text(herr.Error()))...)
	case herr != nil:
		rt.log.InfoContext(ctx, "request refused", append(attrs, "code", string(fault.CodeOf(herr)))...)
	default:
		rt.log.InfoContext(ctx, "request", attrs...)
	}
	return res, nil
}

func (rt *Router) serve(ctx context.Context, req *Request) (Response, error) {
	r, ok := rt.routes[req.Event.RouteKey]
	if !ok {
		return Response{}, fault.New(fault.NotFound, "no such route")
	}
	if r.authed {
		token, ok := authtoken.BearerToken(req.Header("authorization"))
		if !ok {
			return Response{}, errSignIn
		}
		claims, err := rt.tokens.Verify(token)
		if err != nil {
			return Response{}, errSignIn
		}
		req.userID, req.sessionID = claims.Subject, claims.SessionID
	}
	body := req.Event.Body
	if len(body) > MaxBody*4/3+4 {
		return Response{}, fault.New(fault.TooLarge, "the request body is larger than %d KiB", MaxBody>>10)
	}
	if req.Event.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return Response{}, fault.New(fault.Malformed, "the request body is not valid base64")
		}
		req.Body = b
	} else {
		req.Body = []byte(body)
	}
	if len(req.Body) > MaxBody {
		return Response{}, fault.New(fault.TooLarge, "the request body is larger than %d KiB", MaxBody>>10)
	}
	if key := req.Header("idempotency-key"); key != "" && rt.idem != nil && r.authed && !r.secret && strings.HasPrefix(req.Event.RouteKey, "POST ") {
		return rt.idempotent(ctx, req, key, r.h)
	}
	return r.h(ctx, req)
}
