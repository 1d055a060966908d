package ingest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"onboarding/shared/importjob"
	"onboarding/shared/ingest"
	"onboarding/shared/ingest/ingesttest"
	"onboarding/shared/org"
)

// A report names a role as the organisation names it in the report's
// language, not by its key (the tools' codes keep the key's note).
func TestReportsNameRolesInTheReadersLanguage(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	nb := "nb"
	orgs := &org.Service{Store: w.Store, Now: time.Now}
	if _, err := orgs.UpdateSettings(ctx, w.Admin, w.OrgID, org.SettingsChange{DefaultLanguage: &nb}); err != nil {
		t.Fatal(err)
	}
	objs := &memObjects{files: map[string][]byte{}}
	g := &ingest.Importer{Jobs: w.Store, Objects: objs, Applier: w.Applier, Now: time.Now}
	csv := ingesttest.Header + "P,Q,a@example.no,915 12 345,reporter,,Ola N,41234567,Per P,41234568,,\n"
	key := "imports/" + w.OrgID + "/roster.csv"
	objs.files[key] = []byte(csv)
	job, err := g.Apply(ctx, importjob.Object{Key: key, ETag: `"etag-1"`, Size: int64(len(csv))})
	if err != nil || job.Status != importjob.Done {
		t.Fatalf("%+v %v", job, err)
	}
	report := string(objs.files[importjob.ReportKey(w.OrgID, job.ID)+".csv"])
	if !strings.Contains(report, "rollen Rapportør overvåkes ikke") || !strings.Contains(report, "role.notMonitored") {
		t.Fatalf("report:\n%s", report)
	}
}
