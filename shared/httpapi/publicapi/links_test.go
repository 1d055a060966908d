package publicapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/publicapi"
	"onboarding/shared/invite"
	"onboarding/shared/signer"
)

// forged are headers any client can send; no link may be built from them.
var forged = map[string]string{
	"host": "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "gopher",
	"forwarded": "host=evil.example;proto=gopher",
}

// The domain API Gateway received a request on: it sets
// requestContext.domainName itself (its own or a custom domain mapped to the
// API); clients cannot.
const apiDomain = "abc123.execute-api.eu-north-1.amazonaws.com"

// The discovery document links to the configured public base, else to the
// API's own domain, whatever the request's headers say.
func TestDiscoveryLinksIgnoreForgedHeaders(t *testing.T) {
	key, _ := signer.NewKey()
	for configured, want := range map[string]string{"https://onboard.example": "https://onboard.example", "": "https://" + apiDomain} {
		router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), nil)
		(&publicapi.Routes{Invitations: &invite.Service{}, Issuer: "urn:links", Key: &key.PublicKey, BaseURL: configured}).Register(router)
		res, err := router.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
			RouteKey: "GET /.well-known/openid-configuration", Headers: forged,
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "links", DomainName: apiDomain},
		})
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%d %v", res.StatusCode, err)
		}
		var disco map[string]any
		json.Unmarshal([]byte(res.Body), &disco)
		if disco["jwks_uri"] != want+"/.well-known/jwks.json" || disco["token_endpoint"] != want+"/auth/sign-in" {
			t.Errorf("configured %q: discovery %v", configured, disco)
		}
	}
}
