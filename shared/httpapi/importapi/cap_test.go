package importapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/infra/testenv"
	"onboarding/shared/authtoken"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/importapi"
	"onboarding/shared/importjob"
	"onboarding/shared/ingest/ingesttest"
	"onboarding/shared/invite"
	"onboarding/shared/org"
	"onboarding/shared/signer"
)

// One organisation has at most importjob.MaxOpenPerOrg imports awaiting
// upload or running: of many POSTs at once exactly that many get an upload
// URL, the others 429 with Retry-After, while another organisation is not
// held up. Every way an import ends gives its place back: its run finishes
// it, the stale-import step gives it up, or its upload URL expires unused.
func TestImportsPerOrganisationAreCapped(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	clock := testenv.NewClock()
	key, _ := signer.NewKey()
	issuer, _ := authtoken.NewIssuer(ctx, signer.Local{Key: key}, "urn:imports", time.Hour, time.Now)
	router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:imports", &key.PublicKey))
	(&importapi.Routes{Orgs: &org.Service{Store: w.Store, Now: time.Now}, Jobs: w.Store, Objects: presigner{}, Now: clock.Now}).Register(router)
	w.Invite("uc@example.no", "coordinator", w.Nord)
	coordinator := w.Accept("uc@example.no")
	other, err := w.Svc.Provision(ctx, invite.ProvisionRequest{Name: "Other", AdminEmail: "o@example.no"})
	if err != nil {
		t.Fatal(err)
	}
	otherAdmin := w.Accept("o@example.no")

	post := func(userID, orgID string) events.APIGatewayV2HTTPResponse {
		token, _, _ := issuer.Issue(ctx, userID, "x@example.no", "")
		res, err := router.Handle(ctx, events.APIGatewayV2HTTPRequest{RouteKey: "POST /orgs/{orgId}/imports", RawPath: "/orgs/" + orgID + "/imports",
			PathParameters: map[string]string{"orgId": orgID}, Headers: map[string]string{"authorization": "Bearer " + token},
			Body: `{"fileName":"roster.csv","size":2048}`})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	importID := func(res events.APIGatewayV2HTTPResponse) string {
		var up importapi.Upload
		if res.StatusCode != 201 || json.Unmarshal([]byte(res.Body), &up) != nil || up.ImportID == "" {
			t.Fatalf("no upload: %d %s", res.StatusCode, res.Body)
		}
		return up.ImportID
	}
	refused := func(res events.APIGatewayV2HTTPResponse) bool {
		t.Helper()
		if res.StatusCode == 201 {
			return false
		}
		if res.StatusCode != 429 || res.Headers["Retry-After"] == "" || res.Headers["Content-Type"] != "application/problem+json" ||
			!strings.Contains(res.Body, "urn:onboarding:problem:too_many") || !strings.Contains(res.Body, fmt.Sprint(importjob.MaxOpenPerOrg)) {
			t.Errorf("refused as %d %v %s", res.StatusCode, res.Headers, res.Body)
		}
		return true
	}

	// Many at once, from the org-wide admin and a unit coordinator: the
	// organisation's places are shared.
	const tries = 12
	results := make([]events.APIGatewayV2HTTPResponse, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uploader := w.Admin
			if i%2 == 1 {
				uploader = coordinator
			}
			results[i] = post(uploader, w.OrgID)
		}()
	}
	wg.Wait()
	var open []string
	for _, res := range results {
		if !refused(res) {
			open = append(open, importID(res))
		}
	}
	if len(open) != importjob.MaxOpenPerOrg {
		t.Fatalf("%d of %d imports opened at once, want %d", len(open), tries, importjob.MaxOpenPerOrg)
	}
	// Another organisation is not held up.
	importID(post(otherAdmin, other.OrgID))

	// Its run finishes one: a place is free again, and only one.
	now := clock.Now()
	finished, claimed, err := w.Store.ClaimImport(ctx, w.OrgID, open[0], importjob.Claim{Key: "imports/" + w.OrgID + "/" + open[0] + "/roster.csv",
		Version: "v1", Runner: "IngestFunction", Until: now.Add(15 * time.Minute), Now: now})
	if err != nil || !claimed {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	finished.Status, finished.FinishedAt, finished.UpdatedAt = importjob.Done, &now, now
	if err := w.Store.FinishImport(ctx, finished); err != nil {
		t.Fatal(err)
	}
	open[0] = importID(post(w.Admin, w.OrgID))
	if !refused(post(w.Admin, w.OrgID)) {
		t.Fatal("a fourth import opened after one finished")
	}

	// The stale-import step gives one up whose runs keep dying.
	step := &importjob.Resumer{Store: w.Store, Now: clock.Now, Notifier: importjob.Notifier{},
		Start:    func(context.Context, importjob.Job) error { return nil },
		Uploaded: func(context.Context, string) (bool, error) { return false, nil }} // no file ever arrives
	if _, claimed, err := w.Store.ClaimImport(ctx, w.OrgID, open[1], importjob.Claim{Key: "imports/" + w.OrgID + "/" + open[1] + "/roster.csv",
		Version: "v1", Runner: "IngestFunction", Until: now.Add(time.Minute), Now: now}); err != nil || !claimed {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	for range importjob.MaxResumes + 1 {
		clock.Add(importjob.HandoverGrace + time.Minute)
		if _, err := step.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if j, _ := w.Store.Import(ctx, w.OrgID, open[1]); j == nil || j.Status != importjob.Failed {
		t.Fatalf("not given up: %+v", j)
	}
	open[1] = importID(post(w.Admin, w.OrgID))

	// The upload URLs expire unused: each one's place is free once the step
	// has seen it (UploadGrace after the expiry).
	clock.Add(importjob.UploadWindow + importjob.UploadGrace + time.Second)
	if _, err := step.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range open {
		if j, _ := w.Store.Import(ctx, w.OrgID, id); j == nil || j.Status != importjob.Failed || !strings.Contains(j.Message, "no file was uploaded") {
			t.Fatalf("an unused upload is %+v", j)
		}
	}
	for range importjob.MaxOpenPerOrg {
		importID(post(coordinator, w.OrgID))
	}
	if !refused(post(coordinator, w.OrgID)) {
		t.Fatal("more imports opened than the cap")
	}
}
