package imports_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/authtoken"
	"onboarding/shared/httpapi"
	"onboarding/shared/imports"
	"onboarding/shared/invite"
	"onboarding/shared/org"
)

type presigner struct{}

func (presigner) PresignPut(_ context.Context, key string, _ time.Duration) (string, error) {
	return "https://bucket/" + key, nil
}
func (presigner) PresignGet(_ context.Context, key string, _ time.Duration) (string, error) {
	return "https://bucket/" + key, nil
}

// Who may use the import routes: roles that invite; an import's status and
// report only its uploader and organisation-wide callers.
func TestImportRoutesAuthorization(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	key, _ := authtoken.NewKey()
	issuer, _ := authtoken.NewIssuer(ctx, authtoken.KeySigner{Key: key}, "urn:imports", time.Hour, time.Now)
	router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:imports", &key.PublicKey))
	(&imports.Routes{Orgs: &org.Service{Store: w.store, Now: time.Now}, Jobs: w.store, Objects: presigner{}, Now: time.Now}).Register(router)

	join := func(email, role string, units ...string) string {
		w.invite(email, role, units...)
		return w.accept(email)
	}
	names := []string{"org-wide admin", "unit admin", "unit coordinator", "reporter", "member", "other org's admin"}
	ids := map[string]string{
		"org-wide admin":   w.admin,
		"unit admin":       join("ua@example.no", "admin", w.nord),
		"unit coordinator": join("uc@example.no", "coordinator", w.nord),
		"reporter":         join("r@example.no", "reporter"),
		"member":           join("m@example.no", "member", w.nord),
	}
	other, err := w.svc.Provision(ctx, invite.ProvisionRequest{Name: "Other", AdminEmail: "o@example.no"})
	if err != nil {
		t.Fatal(err)
	}
	ids["other org's admin"] = w.accept("o@example.no")
	_ = other

	call := func(actor, routeKey string, params map[string]string, body any) (int, string) {
		t.Helper()
		token, _, _ := issuer.Issue(ctx, ids[actor], "x@example.no")
		path := routeKey[strings.Index(routeKey, " ")+1:]
		for k, v := range params {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		}
		ev := events.APIGatewayV2HTTPRequest{RouteKey: routeKey, RawPath: path, PathParameters: params,
			Headers: map[string]string{"authorization": "Bearer " + token}}
		if body != nil {
			b, _ := json.Marshal(body)
			ev.Body = string(b)
		}
		res, err := router.Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, res.Body
	}
	o := map[string]string{"orgId": w.orgID}
	// An import by the org-wide admin, one by the unit coordinator.
	importID := func(actor string) string {
		status, body := call(actor, "POST /orgs/{orgId}/imports", o, map[string]string{"fileName": "roster.xlsx"})
		var up struct {
			ImportID string `json:"importId"`
		}
		json.Unmarshal([]byte(body), &up)
		if status != 201 || up.ImportID == "" {
			t.Fatalf("%s: %d %s", actor, status, body)
		}
		return up.ImportID
	}
	byAdmin, byCoordinator := importID("org-wide admin"), importID("unit coordinator")

	cases := []struct {
		name, route string
		params      map[string]string
		body        any
		want        [6]int
	}{
		{"download the template", "GET /orgs/{orgId}/imports/template", o, nil, [6]int{200, 200, 200, 403, 403, 403}},
		{"start an import", "POST /orgs/{orgId}/imports", o, map[string]string{"fileName": "r.csv"}, [6]int{201, 201, 201, 403, 403, 403}},
		{"read an org-wide admin's import", "GET /orgs/{orgId}/imports/{importId}", map[string]string{"orgId": w.orgID, "importId": byAdmin}, nil,
			[6]int{200, 404, 404, 403, 403, 403}},
		{"read a unit coordinator's import", "GET /orgs/{orgId}/imports/{importId}", map[string]string{"orgId": w.orgID, "importId": byCoordinator}, nil,
			[6]int{200, 404, 200, 403, 403, 403}},
	}
	for _, tc := range cases {
		for i, actor := range names {
			if got, body := call(actor, tc.route, tc.params, tc.body); got != tc.want[i] {
				t.Errorf("%s as %s: %d, want %d (%s)", tc.name, actor, got, tc.want[i], body)
			}
		}
	}
	// A bad file name is named.
	if status, body := call("org-wide admin", "POST /orgs/{orgId}/imports", o, map[string]string{"fileName": "roster.pdf"}); status != 422 ||
		!strings.Contains(body, "fileName") {
		t.Fatalf("%d %s", status, body)
	}
}
