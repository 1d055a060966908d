package apply_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"onboarding/shared/ingest/apply"
	"onboarding/shared/ingest/ingesttest"
	"onboarding/shared/roster"
)

// run applies a CSV roster as uploaderID and returns the report by email.
func run(w *ingesttest.World, uploaderID, csv string) map[string]roster.ReportLine {
	w.T.Helper()
	ctx := context.Background()
	sess, err := w.Applier.Begin(ctx, w.OrgID, uploaderID)
	if err != nil {
		w.T.Fatal(err)
	}
	sheet, _, err := roster.OpenCSV(strings.NewReader(csv), roster.Limits{})
	if err != nil {
		w.T.Fatal(err)
	}
	r, err := roster.NewReader(sheet, sess.Rules)
	if err != nil {
		w.T.Fatal(err)
	}
	var rows []roster.Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.T.Fatal(err)
		}
		rows = append(rows, row)
	}
	out := map[string]roster.ReportLine{}
	for i, line := range w.Applier.ApplyAll(ctx, sess, rows) {
		if line.Row != rows[i].Line {
			w.T.Fatalf("report line %d is for row %d, not %d", i, line.Row, rows[i].Line)
		}
		out[line.Email] = line
	}
	return out
}

// blindLookup sees no one: every row looks like a new person to the batch.
type blindLookup struct{ apply.Store }

func (blindLookup) RosterLookup(context.Context, string, []string) (map[string]bool, error) {
	return map[string]bool{}, nil
}

// Someone invited between the batch's lookup and its write is updated row
// by row, not reported as a failure.
func TestApplyAllFallsBackWhenInvitedMeanwhile(t *testing.T) {
	w := ingesttest.NewWorld(t)
	w.Invite("per@example.no", "member", w.Nord)
	a := *w.Applier
	a.Store = blindLookup{w.Store}
	w.Applier = &a
	got := run(w, "", ingesttest.Header+
		"Per,Persen,per@example.no,98765432,,Nord,Kari K,41234569,Lise L,41234570,,\n"+
		"Kari,Nordmann,kari@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,,\n")
	if got["per@example.no"].Outcome != roster.Updated || got["kari@example.no"].Outcome != roster.Created {
		t.Fatalf("%+v", got)
	}
}

func TestApplyRoster(t *testing.T) {
	w := ingesttest.NewWorld(t)
	ctx := context.Background()
	// Ola is a member in Nord; Per has a pending invitation; Liv is a member to be removed; Gro is invited and leaves.
	w.Invite("ola@example.no", "member", w.Nord)
	ola := w.Accept("ola@example.no")
	w.Invite("per@example.no", "member", w.Nord)
	w.Invite("liv@example.no", "member", w.Nord)
	w.Accept("liv@example.no")
	w.Invite("gro@example.no", "member", w.Nord)
	w.Invite("bo@example.no", "admin")
	w.Accept("bo@example.no")

	csv := ingesttest.Header +
		"Kari,Nordmann,kari@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,blåbær,\n" + // new: invited with profile
		"Ola,Olsen,ola@example.no,+4790000001,,Sør,Kari K,41234569,Lise L,41234570,,\n" + // member: unit and profile change
		"Per,Persen,per@example.no,98765432,,Nord,Kari K,41234569,Lise L,41234570,,\n" + // pending: mobile and profile
		",,liv@example.no,,,,,,,,,slutter\n" + // member leaves
		",,gro@example.no,,,,,,,,,remove\n" + // pending invitation revoked
		",,nobody@example.no,,,,,,,,,remove\n" + // nothing to remove
		"Vera,V,vera@example.no,915 12 346,,Vest,Ola N,41234567,Per P,41234568,,\n" + // unknown unit
		"Bo,B,bo@example.no,,,,,,,,,\n" + // an admin listed without a role keeps it
		"Nils,N,nils@example.no,,,,,,,,,\n" // a new worker without contacts
	got := run(w, "", csv)
	want := map[string]string{
		"kari@example.no": roster.Created, "ola@example.no": roster.Updated, "per@example.no": roster.Updated,
		"liv@example.no": roster.Removed, "gro@example.no": roster.Removed, "nobody@example.no": roster.Unchanged,
		"vera@example.no": roster.Failed, "bo@example.no": roster.Unchanged, "nils@example.no": roster.Failed,
	}
	for email, outcome := range want {
		if got[email].Outcome != outcome {
			t.Errorf("%s: %+v, want %s", email, got[email], outcome)
		}
	}
	if !strings.Contains(got["vera@example.no"].Message, "Avdeling") {
		t.Errorf("the error does not name the column: %q", got["vera@example.no"].Message)
	}
	// Kari's invitation carries her profile; Ola's is stored, in Sør.
	kari, err := w.Store.PendingInvitation(ctx, w.OrgID, "kari@example.no")
	if err != nil || kari == nil || kari.Profile == nil || len(kari.Profile.EscalationContacts) != 2 || kari.Phone != "+4791512345" {
		t.Fatalf("kari %+v %v", kari, err)
	}
	m, _ := w.Store.Member(ctx, w.OrgID, ola)
	rec, _ := w.Store.MonitoringProfile(ctx, w.OrgID, ola)
	if m.Units[0] != w.Sor || rec == nil || rec.Version != 1 || rec.EscalationContacts[0].Phone != "+4741234569" {
		t.Fatalf("ola %+v %+v", m, rec)
	}

	// The same file again changes nothing.
	again := run(w, "", csv)
	for email, line := range again {
		if email == "vera@example.no" || email == "nils@example.no" {
			continue
		}
		if line.Outcome != roster.Unchanged {
			t.Errorf("second import, %s: %+v", email, line)
		}
	}

	// A coordinator of Nord may not place people in Sør.
	w.Invite("cora@example.no", "coordinator", w.Nord)
	cora := w.Accept("cora@example.no")
	scoped := run(w, cora, ingesttest.Header+"Siv,S,siv@example.no,915 12 347,,Sør,Ola N,41234567,Per P,41234568,,\n"+
		"Tor,T,tor@example.no,915 12 348,,Nord,Ola N,41234567,Per P,41234568,,\n")
	if scoped["siv@example.no"].Outcome != roster.Failed || scoped["tor@example.no"].Outcome != roster.Created {
		t.Fatalf("scoped %+v", scoped)
	}
}
