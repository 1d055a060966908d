package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"onboarding/shared/importjob"
	"onboarding/shared/ingest"
	"onboarding/shared/ingest/ingesttest"
)

// importFile runs one upload of csv through the ingest, as job asks.
func importFile(t *testing.T, w *ingesttest.World, job importjob.Job, csv string) (importjob.Job, *memObjects) {
	t.Helper()
	ctx := context.Background()
	objs := &memObjects{files: map[string][]byte{}}
	g := &ingest.Importer{Jobs: w.Store, Objects: objs, Applier: w.Applier, Now: time.Now}
	now := time.Now().UTC().Truncate(time.Second)
	job.OrgID, job.FileName, job.UploadedBy, job.Status, job.CreatedAt, job.UpdatedAt =
		w.OrgID, "roster.csv", w.Admin, importjob.AwaitingUpload, now, now
	if err := w.Store.CreateImport(ctx, job); err != nil {
		t.Fatal(err)
	}
	key := "imports/" + w.OrgID + "/" + job.ID + "/roster.csv"
	objs.files[key] = []byte(csv)
	done, err := g.Apply(ctx, importjob.Object{Key: key, Version: "v1", Size: int64(len(csv))})
	if err != nil {
		t.Fatal(err)
	}
	return done, objs
}

// The columns an import does not read are named in its status, as stored
// and as GET shows it, and at the top of its report (CSV and XLSX), each
// with its letter and header: a header it does not know, a column without
// a header that holds data, a second mobile column. No value is quoted.
func TestIngestNamesTheColumnsItDoesNotRead(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	csv := strings.TrimSuffix(ingesttest.Header, "\n") + ",Alarmpassord,,Mobiltelefon\n" +
		"Kari,Nordmann,kari@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,,,blåbær-42,,\n" +
		"Ola,Olsen,ola@example.no,915 12 346,,Nord,Kari K,41234569,Per P,41234568,,,,EL 12345,\n"
	job, objs := importFile(t, w, importjob.Job{ID: "imp1"}, csv)
	if job.Status != importjob.Done || job.Counts.Created != 2 {
		t.Fatalf("%+v", job)
	}
	want := []importjob.ColumnWarning{
		{Column: "M", Header: "Alarmpassord", Reason: "notRecognised", Row: 1},
		{Column: "N", Reason: "noHeader", Row: 3},
		{Column: "O", Header: "Mobiltelefon", Reason: "repeated", Row: 1},
	}
	stored, err := w.Store.Import(ctx, w.OrgID, "imp1")
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range [][]importjob.ColumnWarning{job.Warnings, stored.Warnings} {
		if len(got) != len(want) {
			t.Fatalf("warnings %+v", got)
		}
		for i, w := range want {
			g := got[i]
			if g.Column != w.Column || g.Header != w.Header || g.Reason != w.Reason || g.Row != w.Row || g.Message == "" {
				t.Errorf("warning %d: %+v, want %+v", i, g, w)
			}
		}
	}
	b, _ := json.Marshal(stored)
	if s := string(b); !strings.Contains(s, `"warnings":[{"column":"M","header":"Alarmpassord","reason":"notRecognised"`) ||
		strings.Contains(s, "blåbær") || strings.Contains(s, "EL 12345") {
		t.Fatalf("status %s", s)
	}
	report := string(objs.files[importjob.ReportKey(w.OrgID, "imp1")+".csv"])
	lines := strings.Split(report, "\r\n")
	if !strings.HasPrefix(lines[1], `1,,warning,"column M ""Alarmpassord"" is not a roster column`) ||
		!strings.HasPrefix(lines[2], "3,,warning,column N has no header but holds data") ||
		!strings.HasPrefix(lines[3], `1,,warning,"column O ""Mobiltelefon"" repeats column D: only column D was read"`) ||
		!strings.Contains(lines[4], "kari@example.no,created") || strings.Contains(report, "blåbær") {
		t.Fatalf("report:\n%s", report)
	}
	f, err := excelize.OpenReader(bytes.NewReader(objs.files[importjob.ReportKey(w.OrgID, "imp1")+".xlsx"]))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Report")
	if len(rows) != 6 || rows[1][2] != "warning" || !strings.HasPrefix(rows[1][3], `column M "Alarmpassord"`) {
		t.Fatalf("xlsx report %q", rows)
	}
}

// A column mapping stored with the import is applied when the file is
// read: its headers are read as the fields it names, a column it sets
// aside is not read (and is named so). One naming a header the file lacks
// fails the import before anything changes.
func TestIngestAppliesTheColumnMapping(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	csv := "Fornavn,Etternavn,Jobb-epost,Mobil,Avdeling,Leder,Leder tlf,Verneombud,Verneombud tlf,Kodeord ved alarm,Status\n" +
		"Kari,Nordmann,kari@example.no,915 12 345,Nord,Ola N,41234567,Per P,41234568,blåbær,fast\n"
	columns := map[string]string{"Jobb-epost": "email", "Leder": "escalationContact1Name", "Leder tlf": "escalationContact1Phone",
		"Verneombud": "escalationContact2Name", "Verneombud tlf": "escalationContact2Phone", "Kodeord ved alarm": "safeWord",
		"Status": "ignore"}
	job, _ := importFile(t, w, importjob.Job{ID: "imp1", Columns: columns}, csv)
	if job.Status != importjob.Done || job.Counts.Created != 1 || len(job.Warnings) != 1 || job.Warnings[0].Column != "K" ||
		job.Warnings[0].Reason != "mappedToIgnore" {
		t.Fatalf("%+v", job)
	}
	kari, err := w.Store.PendingInvitation(ctx, w.OrgID, "kari@example.no")
	if err != nil || kari == nil || kari.Profile == nil || kari.Profile.SafeWord != "blåbær" || len(kari.Profile.EscalationContacts) != 2 {
		t.Fatalf("kari %+v %v", kari, err)
	}
	stored, _ := w.Store.Import(ctx, w.OrgID, "imp1")
	if stored.Columns["Kodeord ved alarm"] != "safeWord" {
		t.Fatalf("mapping not kept: %+v", stored.Columns)
	}

	columns["Kodeord 2"] = "ignore"
	job, _ = importFile(t, w, importjob.Job{ID: "imp2", Columns: columns},
		strings.ReplaceAll(csv, "kari@example.no", "liv@example.no"))
	if job.Status != importjob.Failed || !strings.Contains(job.Message, `"Kodeord 2"`) || job.Counts.Rows != 0 {
		t.Fatalf("%+v", job)
	}
	last := job.Warnings[len(job.Warnings)-1]
	if last.Reason != "notInFile" || last.Header != "Kodeord 2" || last.Column != "" {
		t.Fatalf("%+v", job.Warnings)
	}
	if inv, _ := w.Store.PendingInvitation(ctx, w.OrgID, "liv@example.no"); inv != nil {
		t.Fatal("a failed import invited someone")
	}
}

// The status keeps at most a bounded number of column warnings (a workbook
// may have 16,384 columns); the report lists them all.
func TestIngestBoundsTheColumnWarnings(t *testing.T) {
	w := ingesttest.NewWorld(t)
	var head, row strings.Builder
	head.WriteString(strings.TrimSuffix(ingesttest.Header, "\n"))
	row.WriteString("Kari,Nordmann,kari@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,,")
	for i := range 300 {
		head.WriteString(",Ekstra " + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		row.WriteString(",")
	}
	job, objs := importFile(t, w, importjob.Job{ID: "imp1"}, head.String()+"\n"+row.String()+"\n")
	if job.Status != importjob.Done || len(job.Warnings) != importjob.MaxColumnWarnings || job.MoreWarnings != 300-importjob.MaxColumnWarnings {
		t.Fatalf("%d warnings, %d more: %+v", len(job.Warnings), job.MoreWarnings, job)
	}
	if n := strings.Count(string(objs.files[importjob.ReportKey(w.OrgID, "imp1")+".csv"]), ",,warning,"); n != 300 {
		t.Fatalf("%d warnings in the report", n)
	}
}
