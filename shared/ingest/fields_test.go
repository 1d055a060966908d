package ingest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"onboarding/shared/importjob"
	"onboarding/shared/ingest/ingesttest"
	"onboarding/shared/org"
)

// An import into an organisation with conditional fields, on DynamoDB
// Local: a row asking for therapy without a description for the therapist
// is refused, one with it is invited with the values stored (a multiselect
// as a list), and a later roster changes a pending invitation's values.
func TestImportWithConditionalFields(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	orgs := &org.Service{Store: w.Store, Now: time.Now}
	p, _ := org.FindPreset(org.PresetHealthServices)
	if _, err := orgs.UpdateSettings(ctx, w.Admin, w.OrgID, org.SettingsChange{CustomFields: &p.Fields}); err != nil {
		t.Fatal(err)
	}
	header := "Fornavn,Etternavn,E-post,Rolle,Avdeling,Services,Description for the therapist,Credits\n"
	csv := header +
		"Kari,Nordmann,kari@example.no,reporter,Nord,therapy;homeCare,Ryggsmerter,12\n" +
		"Ola,Olsen,ola@example.no,reporter,Nord,therapy,,\n"
	job, _ := importFile(t, w, importjob.Job{ID: "imp1"}, csv)
	if job.Status != importjob.Done || job.Counts.Created != 1 || job.Counts.Errors != 1 {
		t.Fatalf("%+v", job)
	}
	inv, err := w.Store.PendingInvitation(ctx, w.OrgID, "kari@example.no")
	if err != nil || inv == nil || !slices.Equal(org.AsList(inv.Attributes["services"]), []string{"therapy", "homeCare"}) ||
		inv.Attributes["therapistDescription"] != "Ryggsmerter" || inv.Attributes["credits"] != "12" {
		t.Fatalf("kari: %+v %v", inv, err)
	}
	if ola, _ := w.Store.PendingInvitation(ctx, w.OrgID, "ola@example.no"); ola != nil {
		t.Fatalf("ola was invited without the description: %+v", ola)
	}

	// The same roster with home care only: the pending invitation follows.
	csv = header + "Kari,Nordmann,kari@example.no,reporter,Nord,homeCare,,12\n"
	job, _ = importFile(t, w, importjob.Job{ID: "imp2"}, csv)
	inv, _ = w.Store.PendingInvitation(ctx, w.OrgID, "kari@example.no")
	if job.Counts.Updated != 1 || !slices.Equal(org.AsList(inv.Attributes["services"]), []string{"homeCare"}) ||
		inv.Attributes["therapistDescription"] != nil {
		t.Fatalf("update: %+v %+v", job.Counts, inv.Attributes)
	}
}
