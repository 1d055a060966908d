package publicapi_test

import (
	"context"
	"io"
	"log/slog"
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
