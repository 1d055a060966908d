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

// A file dropped into the bucket has no uploader: its report is in the
// organisation's default language; a too-large file's summary problem
// keeps its key for the summary's language.
func TestDroppedFilesReportInTheOrganisationsLanguage(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	sv := "sv"
	orgs := &org.Service{Store: w.Store, Now: time.Now}
	if _, err := orgs.UpdateSettings(ctx, w.Admin, w.OrgID, org.SettingsChange{DefaultLanguage: &sv}); err != nil {
		t.Fatal(err)
	}
	objs := &memObjects{files: map[string][]byte{}}
	g := &ingest.Importer{Jobs: w.Store, Objects: objs, Applier: w.Applier, Now: time.Now}
	csv := ingesttest.Header + "P,Q,a@example.no,915 12 345,,Vest,Ola N,41234567,Per P,41234568,,\n"
	key := "imports/" + w.OrgID + "/roster.csv"
	objs.files[key] = []byte(csv)
	job, err := g.Apply(ctx, importjob.Object{Key: key, ETag: `"etag-1"`, Size: int64(len(csv))})
	if err != nil || job.Status != importjob.Done || job.Language != "sv" {
		t.Fatalf("%+v %v", job, err)
	}
	report := string(objs.files[importjob.ReportKey(w.OrgID, job.ID)+".csv"])
	if !strings.Contains(report, "Rad,E-post,Resultat,Meddelande,outcome,severity,codes") ||
		!strings.Contains(report, "ingen enhet ”Vest” i den här organisationen") || !strings.Contains(report, ",error,error,unit.unknown") {
		t.Fatalf("report:\n%s", report)
	}

	g.Limits.MaxBytes = 10
	key = "imports/" + w.OrgID + "/big.csv"
	objs.files[key] = []byte(csv)
	job, err = g.Apply(ctx, importjob.Object{Key: key, ETag: `"etag-2"`, Size: int64(len(csv))})
	if err != nil || job.Status != importjob.Failed || job.MessageKey != "tooLarge" || job.MessageArgs["MB"] != "0" {
		t.Fatalf("%+v %v", job, err)
	}
}
