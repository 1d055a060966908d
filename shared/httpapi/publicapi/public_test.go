package publicapi_test

import (
	"context"
	"encoding/json"
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
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

// lockedThrottles is a sign-in store whose every throttle is waiting; it
// records the source asked about.
type lockedThrottles struct {
	account.SignInStore // calls beyond the throttle read are not expected
	source              string
}

func (l *lockedThrottles) SignInThrottle(_ context.Context, _, source string) (account.Throttle, error) {
	l.source = source
	return account.Throttle{NextAllowedAt: time.Now().Add(time.Minute)}, nil
}

// openInvitation is an invite store with one pending invitation, to an
// email that has an account, of an organisation without terms of its own.
type openInvitation struct {
	invite.Store // calls beyond these two are not expected
	inv          invite.Invitation
}

func (o openInvitation) InvitationByToken(context.Context, string) (invite.Invitation, error) {
	return o.inv, nil
}
func (o openInvitation) AccountByEmail(context.Context, string) (*account.Account, error) {
	return &account.Account{UserID: "u1", Email: o.inv.Email, PasswordHash: "x"}, nil
}

func (o openInvitation) Actor(_ context.Context, orgID, _ string) (org.Organisation, *org.Member, error) {
	return org.Organisation{ID: orgID}, nil, nil
}

type refuseGuesses struct{ source string }

func (r *refuseGuesses) Reserve(_ context.Context, _, source string) (func(context.Context) error, error) {
	r.source = source
	e := fault.New(fault.TooMany, "too many failed sign-ins; try again later")
	e.RetryAfter = time.Minute
	return nil, e
}

// Both routes that check a password throttle by the caller's IP from the
// request context (never from the body), and a refusal is 429 + Retry-After.
func TestPasswordRoutesThrottleBySourceIP(t *testing.T) {
	token, hash, _ := opaque.New()
	store := &lockedThrottles{}
	guesses := &refuseGuesses{}
	inv := invite.Invitation{ID: "i1", OrgID: "o1", Email: "k@example.no", Role: "member", Status: invite.Pending,
		TokenHash: hash, ExpiresAt: time.Now().Add(time.Hour)}
	router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), nil)
	(&publicapi.Routes{
		SignIn:      account.NewSignIn(store, account.Hasher{Params: account.OWASP}, nil, time.Now),
		Invitations: &invite.Service{Store: openInvitation{inv: inv}, Guesses: guesses, Now: time.Now},
		BaseURL:     "https://onboard.example",
	}).Register(router)
	call := func(routeKey, body string) events.APIGatewayV2HTTPResponse {
		ev := events.APIGatewayV2HTTPRequest{RouteKey: routeKey, Body: body,
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{SourceIP: "203.0.113.9"}}}
		res, err := router.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	res := call("POST /auth/sign-in", `{"email":"k@example.no","password":"a long passphrase","source":"192.0.2.1"}`)
	if res.StatusCode != 429 || res.Headers["Retry-After"] == "" || store.source != "203.0.113.9" {
		t.Fatalf("sign-in: %d Retry-After %q source %q", res.StatusCode, res.Headers["Retry-After"], store.source)
	}
	res = call("POST /invitations/accept", `{"token":"`+token+`","firstName":"K","lastName":"N","password":"a long passphrase",`+
		`"acceptTerms":true,"termsVersion":"v","source":"192.0.2.1","Source":"192.0.2.1"}`)
	if res.StatusCode != 429 || res.Headers["Retry-After"] == "" || guesses.source != "203.0.113.9" {
		t.Fatalf("accept: %d Retry-After %q source %q", res.StatusCode, res.Headers["Retry-After"], guesses.source)
	}
}

// The routes the hosted pages call answer in the caller's language
// (Accept-Language): detail and field messages translated, Content-Language
// set, code, type and title as ever; other routes stay in English.
func TestProblemDetailsFollowAcceptLanguage(t *testing.T) {
	token, hash, _ := opaque.New()
	inv := invite.Invitation{ID: "i1", OrgID: "o1", Email: "k@example.no", Role: "member", Status: invite.Pending,
		TokenHash: hash, ExpiresAt: time.Now().Add(-time.Minute)}
	open := inv
	open.ExpiresAt = time.Now().Add(time.Hour)
	routes := func(inv invite.Invitation) *httpapi.Router {
		router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), nil)
		(&publicapi.Routes{
			SignIn: account.NewSignIn(&lockedThrottles{}, account.Hasher{Params: account.OWASP}, nil, time.Now),
			Invitations: &invite.Service{Store: openInvitation{inv: inv}, Now: time.Now,
				Guesses: account.NewGuesses(&lockedThrottles{}, time.Now)},
		}).Register(router)
		return router
	}
	call := func(router *httpapi.Router, routeKey, body, acceptLanguage string) (events.APIGatewayV2HTTPResponse, map[string]any) {
		ev := events.APIGatewayV2HTTPRequest{RouteKey: routeKey, Body: body, Headers: map[string]string{"accept-language": acceptLanguage},
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{SourceIP: "203.0.113.9"}}}
		res, err := router.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		var p map[string]any
		json.Unmarshal([]byte(res.Body), &p)
		return res, p
	}

	res, p := call(routes(inv), "POST /invitations/preview", `{"token":"`+token+`"}`, "de-CH, en;q=0.5")
	if res.StatusCode != 410 || res.Headers["Content-Language"] != "de" || p["detail"] != "diese Einladung ist abgelaufen; bitten Sie um eine neue" ||
		p["code"] != "gone" || p["type"] != "urn:onboarding:problem:gone" || p["title"] != "Gone" {
		t.Fatalf("expired, in German: %d %v %v", res.StatusCode, res.Headers, p)
	}
	res, p = call(routes(inv), "POST /invitations/preview", `{"token":"`+token+`"}`, "")
	if res.Headers["Content-Language"] != "en" || p["detail"] != "this invitation has expired; ask for a new one" {
		t.Fatalf("no preference: %v %v", res.Headers, p)
	}
	res, p = call(routes(open), "POST /invitations/accept", `{"token":"`+token+`","password":"x"}`, "nb")
	errs, _ := p["errors"].([]any)
	if res.StatusCode != 422 || res.Headers["Content-Language"] != "nb" || p["detail"] != "forespørselen har ugyldige felt" || len(errs) != 4 {
		t.Fatalf("fields, in Norwegian: %d %v %v", res.StatusCode, res.Headers, p)
	}
	for _, e := range errs {
		f := e.(map[string]any)
		if want := map[string]string{"firstName": "påkrevd", "lastName": "påkrevd", "acceptTerms": "vilkårene må godtas", "termsVersion": "påkrevd"}[f["field"].(string)]; f["message"] != want {
			t.Errorf("%v: want %q", f, want)
		}
	}
	res, p = call(routes(open), "POST /invitations/accept", `{"token":"`+token+`","firstName":"K","lastName":"N","password":"a long passphrase",`+
		`"acceptTerms":true,"termsVersion":"v"}`, "fr")
	if res.StatusCode != 429 || res.Headers["Content-Language"] != "fr" || res.Headers["Retry-After"] == "" ||
		p["detail"] != "trop de tentatives de connexion échouées ; réessayez plus tard" {
		t.Fatalf("throttled, in French: %d %v %v", res.StatusCode, res.Headers, p)
	}
	res, p = call(routes(open), "POST /memberships/leave", `{"token":"x"}`, "pl")
	if res.StatusCode != 404 || res.Headers["Content-Language"] != "pl" || !strings.HasPrefix(p["detail"].(string), "ten link jest (już) nieważny") {
		t.Fatalf("leave, in Polish: %d %v %v", res.StatusCode, res.Headers, p)
	}
	// Sign-in is no hosted page's call: its details stay as they are.
	res, _ = call(routes(open), "POST /auth/sign-in", `{"email":"k@example.no","password":"a long passphrase"}`, "de")
	if res.StatusCode != 429 || res.Headers["Content-Language"] != "" {
		t.Fatalf("sign-in: %d %v", res.StatusCode, res.Headers)
	}
}
