package publicapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/account"
	"onboarding/shared/fault"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/publicapi"
	"onboarding/shared/invite"
	"onboarding/shared/selfservice"
	"onboarding/shared/signer"
)

// The real services are what the routes' interfaces describe.
var (
	_ publicapi.Invitations  = (*invite.Service)(nil)
	_ publicapi.SignIn       = (*account.SignIn)(nil)
	_ publicapi.Sessions     = (*account.Sessions)(nil)
	_ publicapi.Resets       = (*account.PasswordReset)(nil)
	_ publicapi.EmailChanges = (*selfservice.Service)(nil)
)

// tokens records what the public routes hand the domain, and answers with
// err.
type tokens struct {
	calls []string
	err   error
}

func (f *tokens) Preview(_ context.Context, token string) (invite.Preview, error) {
	f.calls = append(f.calls, "Preview "+token)
	return invite.Preview{OrgID: "o1"}, f.err
}
func (f *tokens) Accept(_ context.Context, req invite.AcceptRequest) (invite.Joined, error) {
	b, _ := json.Marshal(req)
	f.calls = append(f.calls, "Accept "+string(b)+" from "+req.Source)
	return invite.Joined{UserID: "u1", OrgID: "o1", Role: "member"}, f.err
}
func (f *tokens) Leave(_ context.Context, token string) (invite.Left, error) {
	f.calls = append(f.calls, "Leave "+token)
	return invite.Left{OrgID: "o1", OrgName: "Nordlys"}, f.err
}
func (f *tokens) SignIn(_ context.Context, email, password, source, userAgent string) (account.Session, error) {
	f.calls = append(f.calls, "SignIn "+email+" "+password+" from "+source+" ("+userAgent+")")
	return account.Session{AccessToken: "t", TokenType: "Bearer", ExpiresIn: 900, RefreshToken: "r"}, f.err
}
func (f *tokens) Refresh(_ context.Context, token string) (account.Session, error) {
	f.calls = append(f.calls, "Refresh "+token)
	return account.Session{AccessToken: "t", TokenType: "Bearer", ExpiresIn: 900, RefreshToken: "r2"}, f.err
}
func (f *tokens) SignOut(_ context.Context, token string) error {
	f.calls = append(f.calls, "SignOut "+token)
	return f.err
}

func (f *tokens) Request(_ context.Context, email, source, baseURL string) error {
	f.calls = append(f.calls, "Reset "+email+" from "+source+" at "+baseURL)
	return f.err
}
func (f *tokens) Confirm(_ context.Context, token, password, source string) error {
	f.calls = append(f.calls, "Confirm "+token+" "+password+" from "+source)
	return f.err
}
func (f *tokens) ConfirmEmailChange(_ context.Context, token string) error {
	f.calls = append(f.calls, "ConfirmEmailChange "+token)
	return f.err
}

// Each public route, on fakes: what it hands the domain (the caller's IP
// from the request context, never from the body), its status and headers,
// and how refusals become problem+json.
func TestPublicRoutesOnFakes(t *testing.T) {
	f := &tokens{}
	key, _ := signer.NewKey()
	rt := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), nil)
	(&publicapi.Routes{Invitations: f, SignIn: f, Sessions: f, Resets: f, Issuer: "urn:fake", Key: &key.PublicKey, BaseURL: "https://onboard.example",
		EmailChanges: f}).Register(rt)
	serve := func(route, body string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		res, err := rt.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: route, Body: body,
			Headers: map[string]string{"user-agent": "Tester/1"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1", DomainName: "api.example",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{SourceIP: "203.0.113.9"}}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	cases := []struct {
		route, body string
		status      int
		contentType string
		call        string // "" for routes that ask the domain nothing
		badType     string // a body with a member of the wrong type
	}{
		{"POST /invitations/preview", `{"token":"tok-1"}`, 200, "application/json", "Preview tok-1", `{"token":1}`},
		{"POST /invitations/accept", `{"token":"tok-1","firstName":"Kari","lastName":"N","password":"pw","acceptTerms":true,"termsVersion":"v1","source":"192.0.2.1"}`,
			201, "application/json",
			`Accept {"token":"tok-1","firstName":"Kari","lastName":"N","password":"pw","acceptTerms":true,"termsVersion":"v1"} from 203.0.113.9`,
			`{"acceptTerms":"yes"}`},
		{"POST /auth/sign-in", `{"email":"k@example.no","password":"pw","source":"192.0.2.1"}`, 200, "application/json",
			"SignIn k@example.no pw from 203.0.113.9 (Tester/1)", `{"email":["k@example.no"]}`},
		{"POST /auth/refresh", `{"refreshToken":"rt-1"}`, 200, "application/json", "Refresh rt-1", `{"refreshToken":1}`},
		{"POST /auth/sign-out", `{"refreshToken":"rt-1"}`, 204, "", "SignOut rt-1", `{"refreshToken":[]}`},
		{"POST /memberships/leave", `{"token":"tok-2"}`, 200, "application/json", "Leave tok-2", `{"token":true}`},
		{"GET /.well-known/jwks.json", "", 200, "application/jwk-set+json", "", ""},
		{"GET /.well-known/openid-configuration", "", 200, "application/json", "", ""},
		{"GET /accept", "", 200, "text/html; charset=utf-8", "", ""},
		{"GET /leave", "", 200, "text/html; charset=utf-8", "", ""},
		{"POST /auth/password-reset", `{"email":"k@example.no"}`, 202, "", "Reset k@example.no from 203.0.113.9 at https://onboard.example", `{"email":1}`},
		{"POST /auth/password-reset/confirm", `{"token":"tok-3","password":"pw"}`, 204, "", "Confirm tok-3 pw from 203.0.113.9", `{"password":true}`},
		{"GET /reset", "", 200, "text/html; charset=utf-8", "", ""},
		{"POST /auth/email-change/confirm", `{"token":"tok-3"}`, 200, "application/json", "ConfirmEmailChange tok-3", `{"token":3}`},
		{"GET /email-change", "", 200, "text/html; charset=utf-8", "", ""},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.route] = true
		t.Run(tc.route, func(t *testing.T) {
			f.calls, f.err = nil, nil
			res := serve(tc.route, tc.body)
			if res.StatusCode != tc.status || res.Headers["Content-Type"] != tc.contentType || strings.Join(f.calls, "; ") != tc.call {
				t.Fatalf("%d %q, calls %q\nwant %d %q, calls %q", res.StatusCode, res.Headers["Content-Type"], f.calls, tc.status, tc.contentType, tc.call)
			}
			if tc.call == "" {
				if res.Headers["Cache-Control"] != "public, max-age=300" {
					t.Errorf("Cache-Control %q", res.Headers["Cache-Control"])
				}
				return
			}
			if res.Headers["Cache-Control"] != "no-store" {
				t.Errorf("Cache-Control %q", res.Headers["Cache-Control"])
			}
			// Refusals keep their code and message (and a throttle's
			// Retry-After); anything else is an opaque 500.
			throttled := fault.New(fault.TooMany, "too many failed sign-ins; try again later")
			throttled.RetryAfter = 90 * time.Second
			for _, refusal := range []struct {
				err    error
				status int
				code   string
			}{
				{fault.New(fault.Gone, "this invitation has expired"), 410, "gone"},
				{fault.New(fault.Unauthorized, "wrong email or password"), 401, "unauthorized"},
				{fault.New(fault.NotFound, "no such invitation"), 404, "not_found"},
				{throttled, 429, "too_many"},
				{errors.New("kms: AccessDenied for key arn:aws:kms:eu-north-1:1:key/x"), 500, "internal"},
			} {
				f.err = refusal.err
				res := serve(tc.route, tc.body)
				var p map[string]any
				json.Unmarshal([]byte(res.Body), &p)
				if res.StatusCode != refusal.status || res.Headers["Content-Type"] != "application/problem+json" || p["code"] != refusal.code ||
					strings.Contains(res.Body, "kms") {
					t.Errorf("%v: %d %v %s", refusal.err, res.StatusCode, res.Headers, res.Body)
				}
				if refusal.status == 429 && res.Headers["Retry-After"] != "90" {
					t.Errorf("Retry-After %q", res.Headers["Retry-After"])
				}
			}
			f.err = nil
			// Bodies that cannot be read never reach the domain.
			for bad, status := range map[string]int{`{"token":`: 400, `"tok-1"`: 400, ``: 400, tc.badType: 422} {
				f.calls = nil
				if res := serve(tc.route, bad); res.StatusCode != status || len(f.calls) > 0 {
					t.Errorf("body %q: %d %s, calls %v", bad, res.StatusCode, res.Body, f.calls)
				}
			}
		})
	}
	// The session routes name back any member they would ignore.
	for _, route := range []string{"POST /auth/refresh", "POST /auth/sign-out"} {
		f.calls = nil
		res := serve(route, `{"refreshToken":"rt-1","keepMeSignedIn":true}`)
		if res.StatusCode != 422 || !strings.Contains(res.Body, "keepMeSignedIn") || len(f.calls) > 0 {
			t.Errorf("%s with an unknown member: %d %s, calls %v", route, res.StatusCode, res.Body, f.calls)
		}
	}
	for _, r := range rt.Routes() {
		if !covered[r] {
			t.Errorf("route %s has no case on fakes", r)
		}
	}
}

// The reset routes name back what they do not read (a 422 naming the
// member), and never reach the domain with it.
func TestResetRoutesAreStrict(t *testing.T) {
	f := &tokens{}
	rt := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), nil)
	(&publicapi.Routes{Invitations: f, SignIn: f, Resets: f}).Register(rt)
	for route, body := range map[string]string{
		"POST /auth/password-reset":         `{"email":"k@example.no","source":"192.0.2.1"}`,
		"POST /auth/password-reset/confirm": `{"token":"t","password":"pw","source":"192.0.2.1"}`,
	} {
		res, _ := rt.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: route, Body: body})
		if res.StatusCode != 422 || !strings.Contains(res.Body, "source") || len(f.calls) > 0 {
			t.Errorf("%s: %d %s, calls %v", route, res.StatusCode, res.Body, f.calls)
		}
	}
}
