package adminapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/infra/testenv"
	"onboarding/shared/authtoken"
	"onboarding/shared/ddb"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/adminapi"
	"onboarding/shared/invite"
	"onboarding/shared/org"
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

// links records the links invitations are sent with.
type links struct{ got []string }

func (l *links) SendInvitation(_ context.Context, _ invite.Invitation, link string) error {
	l.got = append(l.got, link)
	return nil
}
func (l *links) SendAdded(context.Context, invite.Invitation, string, string, string) error {
	return nil
}

// An invitation made through the API links to the configured acceptance
// page, else to the API's own domain, whatever the request's headers say.
func TestInvitationLinksIgnoreForgedHeaders(t *testing.T) {
	client, table := testenv.Table(t)
	store := ddb.New(client, table, time.Now)
	ctx := context.Background()
	mail := &links{}
	svc := &invite.Service{Store: store, Mailer: mail, Now: time.Now, LifetimeDays: 30, AcceptURL: "https://x/accept"}
	w := &world{t: t, store: store, svc: svc}
	p, err := svc.Provision(ctx, invite.ProvisionRequest{Name: "Links Org", AdminEmail: "owner@example.no"})
	if err != nil {
		t.Fatal(err)
	}
	owner := w.acceptProvisioned(p.InvitationID, "owner@example.no", p.OrgID)
	key, _ := signer.NewKey()
	issuer, _ := authtoken.NewIssuer(ctx, signer.Local{Key: key}, "urn:links", time.Hour, time.Now)
	token, _, _ := issuer.Issue(ctx, owner, "owner@example.no", "")
	cursorKey, _ := store.CursorKey(ctx)
	for i, tc := range []struct{ configured, want string }{
		{"https://onboard.example/accept", "https://onboard.example/accept#token="},
		{"", "https://" + apiDomain + "/accept#token="},
	} {
		run := *svc
		run.AcceptURL = tc.configured
		router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:links", &key.PublicKey))
		(&adminapi.Routes{Invitations: &run, Orgs: &org.Service{Store: store, Now: time.Now}, Cursors: httpapi.NewCursors(cursorKey)}).Register(router)
		headers := map[string]string{"authorization": "Bearer " + token}
		for k, v := range forged {
			headers[k] = v
		}
		res, err := router.Handle(ctx, events.APIGatewayV2HTTPRequest{
			RouteKey: "POST /orgs/{orgId}/invitations", PathParameters: map[string]string{"orgId": p.OrgID}, Headers: headers,
			Body:           fmt.Sprintf(`{"email":"kari-%d@example.no","role":"member"}`, i),
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "links", DomainName: apiDomain},
		})
		if err != nil || res.StatusCode != 201 {
			t.Fatalf("invite: %d %s %v", res.StatusCode, res.Body, err)
		}
		if link := mail.got[len(mail.got)-1]; !strings.HasPrefix(link, tc.want) {
			t.Errorf("configured %q: link %s, want %s...", tc.configured, link, tc.want)
		}
	}
}
