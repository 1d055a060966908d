package importapi_test

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
	"onboarding/shared/httpapi/importapi"
	"onboarding/shared/ingest/ingesttest"
	"onboarding/shared/org"
	"onboarding/shared/signer"
)

// POST /orgs/{orgId}/imports takes a column mapping and stores it with
// the job; a mapping naming an unknown field, two headers for one field, or
// a member of the body the route does not know, is a 422 that names it.
func TestCreateImportWithColumns(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	key, _ := signer.NewKey()
	issuer, _ := authtoken.NewIssuer(ctx, signer.Local{Key: key}, "urn:imports", time.Hour, time.Now)
	router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:imports", &key.PublicKey))
	(&importapi.Routes{Orgs: &org.Service{Store: w.Store, Now: time.Now}, Jobs: w.Store, Objects: presigner{}, Now: time.Now}).Register(router)
	token, _, _ := issuer.Issue(ctx, w.Admin, "ada@example.no", "")
	call := func(route string, params map[string]string, body string) (int, string) {
		t.Helper()
		path := route[strings.Index(route, " ")+1:]
		for k, v := range params {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		}
		res, err := router.Handle(ctx, events.APIGatewayV2HTTPRequest{RouteKey: route, RawPath: path, PathParameters: params,
			Headers: map[string]string{"authorization": "Bearer " + token}, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, res.Body
	}
	o := map[string]string{"orgId": w.OrgID}

	status, body := call("POST /orgs/{orgId}/imports", o, `{"fileName":"r.csv","size":100,"columns":{"Kodeord ved alarm":"safeWord","Status":"ignore"}}`)
	var up struct {
		ImportID string `json:"importId"`
	}
	json.Unmarshal([]byte(body), &up)
	if status != 201 || up.ImportID == "" {
		t.Fatalf("%d %s", status, body)
	}
	status, body = call("GET /orgs/{orgId}/imports/{importId}", map[string]string{"orgId": w.OrgID, "importId": up.ImportID}, "")
	if status != 200 || !strings.Contains(body, `"columns":{"Kodeord ved alarm":"safeWord","Status":"ignore"}`) {
		t.Fatalf("%d %s", status, body)
	}

	for _, tc := range []struct{ body, field string }{
		{`{"fileName":"r.csv","size":100,"columns":{"Kodeord ved alarm":"password"}}`, `"field":"columns.Kodeord ved alarm"`},
		{`{"fileName":"r.csv","size":100,"columns":{"A":"email","B":"email"}}`, `"field":"columns.B"`},
		{`{"fileName":"r.csv","size":100,"columns":{"A":7}}`, `"field":"columns`},
		{`{"fileName":"r.csv","size":100,"fullRoster":true,"confirmRemoval":true}`, `"field":"confirmRemoval"`},
		{`{"fileName":"r.csv","size":100,"columnMapping":{"A":"email"}}`, `"field":"columnMapping"`},
	} {
		status, body := call("POST /orgs/{orgId}/imports", o, tc.body)
		if status != 422 || !strings.Contains(body, tc.field) {
			t.Errorf("%s: %d %s", tc.body, status, body)
		}
	}
}
