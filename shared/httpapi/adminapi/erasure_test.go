package adminapi_test

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/shared/erasure"
	"onboarding/shared/httpapi/adminapi"
)

var _ adminapi.Erasure = (*erasure.Service)(nil)

type erasureFake struct{ *domain }

func (f erasureFake) Export(_ context.Context, userID string) (erasure.Export, error) {
	f.record("Export", userID)
	return erasure.Export{}, f.err
}
func (f erasureFake) EraseSelf(_ context.Context, userID, password, source string) error {
	f.record("EraseSelf", userID, password, source)
	return f.err
}
func (f erasureFake) EraseMember(_ context.Context, actorID, orgID, targetID string) error {
	f.record("EraseMember", actorID, orgID, targetID)
	return f.err
}

// The export comes as a file; DELETE /me names a member it does not know.
func TestExportAndEraseMeOnFakes(t *testing.T) {
	d := &domain{}
	rt := fakeRoutes(d)
	res, err := rt.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: "GET /me/export", RawPath: "/me/export",
		Headers: map[string]string{"authorization": "Bearer " + callerToken}})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Headers["Content-Disposition"] != `attachment; filename="export.json"` || res.Headers["Cache-Control"] != "no-store" {
		t.Errorf("export: %d %v", res.StatusCode, res.Headers)
	}
	d.calls = nil
	status, _, body := serve(t, rt, routeCase{route: "DELETE /me"}, callerToken, nil, `{"password":"x","passwrd":"y"}`)
	if errs, _ := body["errors"].([]any); status != 422 || len(errs) != 1 || errs[0].(map[string]any)["field"] != "passwrd" || len(d.calls) > 0 {
		t.Errorf("unknown member: %d %v %v", status, body, d.calls)
	}
}

// DELETE /orgs/{orgId}/members/{userId} removes, or with erase=true
// erases; a parameter it does not know, or another value, is a 422 naming
// it before anything is done.
func TestRemoveMemberEraseFlagOnFakes(t *testing.T) {
	tc := routeCase{route: "DELETE /orgs/{orgId}/members/{userId}", params: map[string]string{"orgId": "o1", "userId": "m1"}}
	cases := []struct {
		query  map[string]string
		status int
		call   string
		field  string
	}{
		{nil, 204, `Members.Remove("caller", "o1", "m1")`, ""},
		{map[string]string{"erase": "false"}, 204, `Members.Remove("caller", "o1", "m1")`, ""},
		{map[string]string{"erase": "true"}, 204, `EraseMember("caller", "o1", "m1")`, ""},
		{map[string]string{"erase": "yes"}, 422, "", "erase"},
		{map[string]string{"erasse": "true"}, 422, "", "erasse"},
	}
	for _, c := range cases {
		d := &domain{}
		status, _, body := serve(t, fakeRoutes(d), tc, callerToken, c.query, "")
		got := ""
		if len(d.calls) > 0 {
			got = d.calls[0]
		}
		if status != c.status || got != c.call {
			t.Errorf("%v: %d %q, want %d %q", c.query, status, got, c.status, c.call)
		}
		if c.field != "" {
			if errs, _ := body["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != c.field {
				t.Errorf("%v: %v", c.query, body)
			}
		}
	}
}
