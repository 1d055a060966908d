package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/authtoken"
	"onboarding/shared/httpapi"
	"onboarding/shared/invite"
)

// forged are headers any client can send; no link may be built from them.
var forged = map[string]string{
	"host": "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "gopher",
	"forwarded": "host=evil.example;proto=gopher",
}

// The discovery document links to the configured public base, whatever
// the request's headers say.
func TestDiscoveryLinksToTheConfiguredBase(t *testing.T) {
	key, _ := authtoken.NewKey()
	router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), nil)
	(&httpapi.Public{Invitations: &invite.Service{}, Issuer: "urn:links", Key: &key.PublicKey,
		BaseURL: "https://onboard.example"}).Register(router)
	res, err := router.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
		RouteKey: "GET /.well-known/openid-configuration", Headers: forged,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "links", DomainName: "abc123.execute-api.eu-north-1.amazonaws.com"},
	})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("%d %v", res.StatusCode, err)
	}
	var disco map[string]any
	json.Unmarshal([]byte(res.Body), &disco)
	if disco["jwks_uri"] != "https://onboard.example/.well-known/jwks.json" || disco["token_endpoint"] != "https://onboard.example/auth/sign-in" {
		t.Fatalf("discovery %v", disco)
	}
}

// Admin routes send invitations with the configured acceptance page only: a
// service without one is a mistake in main, refused when the routes are
// registered rather than filled in from a request.
func TestAdminRoutesNeedAnAcceptancePage(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("admin routes registered without an acceptance URL")
		}
	}()
	key, _ := authtoken.NewKey()
	router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:links", &key.PublicKey))
	(&httpapi.Admin{Invitations: &invite.Service{}, Cursors: httpapi.NewCursors([]byte("0123456789abcdef0123456789abcdef"))}).Register(router)
}
