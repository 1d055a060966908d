package imports_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/account"
	"onboarding/shared/ddb"
	"onboarding/shared/imports"
	"onboarding/shared/invite"
	"onboarding/shared/org"
	"onboarding/shared/phone"
	"onboarding/shared/roster"
)

type links struct {
	mu   sync.Mutex
	byTo map[string]string
}

func (l *links) SendInvitation(_ context.Context, inv invite.Invitation, link string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, l.byTo[inv.Email], _ = strings.Cut(link, "#token=")
	return nil
}
func (l *links) SendAdded(context.Context, invite.Invitation, string, string, string) error {
	return nil
}

type world struct {
	t       *testing.T
	store   *ddb.Store
	svc     *invite.Service
	mail    *links
	applier *imports.Applier
	orgID   string
	admin   string
	nord    string
	sor     string
}

func newWorld(t *testing.T) *world {
	client, table := testenv.Table(t)
	store := ddb.New(client, table, time.Now)
	mail := &links{byTo: map[string]string{}}
	svc := &invite.Service{Store: store, Mailer: mail, Phones: phone.Normalize, AcceptURL: "http://localhost/accept", Now: time.Now,
		Hasher: account.Hasher{Params: account.Params{MemoryKiB: 1024, Time: 1, Threads: 1}}}
	w := &world{t: t, store: store, svc: svc, mail: mail,
		applier: &imports.Applier{Store: store, Invites: svc, Phones: phone.Normalize, Now: time.Now}}
	ctx := context.Background()
	p, err := svc.Provision(ctx, invite.ProvisionRequest{Name: "Nordlys Care", AdminEmail: "ada@example.no", DefaultPhoneRegion: "NO"})
	if err != nil {
		t.Fatal(err)
	}
	w.orgID = p.OrgID
	w.admin = w.accept("ada@example.no")
	orgs := &org.Service{Store: store, Now: time.Now}
	nord, _ := orgs.CreateUnit(ctx, w.admin, w.orgID, "Nord")
	sor, _ := orgs.CreateUnit(ctx, w.admin, w.orgID, "Sør")
	w.nord, w.sor = nord.ID, sor.ID
	return w
}

func (w *world) accept(email string) string {
	w.t.Helper()
	w.mail.mu.Lock()
	tok := w.mail.byTo[email]
	w.mail.mu.Unlock()
	j, err := w.svc.Accept(context.Background(), invite.AcceptRequest{Token: tok, FirstName: "F", LastName: "L",
		Password: "a long enough passphrase", AcceptTerms: true, TermsVersion: "2026-01"})
	if err != nil {
		w.t.Fatalf("accept %s: %v", email, err)
	}
	return j.UserID
}

func (w *world) invite(email, role string, units ...string) {
	w.t.Helper()
	if _, err := w.svc.Invite(context.Background(), w.admin, w.orgID, invite.Request{Email: email, Role: role, Units: units, Phone: "+4790000001"}); err != nil {
		w.t.Fatal(err)
	}
}

// run applies a CSV roster as uploaderID and returns the report by email.
func (w *world) run(uploaderID, csv string) map[string]roster.ReportLine {
	w.t.Helper()
	ctx := context.Background()
	sess, err := w.applier.Begin(ctx, w.orgID, uploaderID)
	if err != nil {
		w.t.Fatal(err)
	}
	sheet, _, err := roster.OpenCSV(strings.NewReader(csv), roster.Limits{})
	if err != nil {
		w.t.Fatal(err)
	}
	r, err := roster.NewReader(sheet, sess.Rules)
	if err != nil {
		w.t.Fatal(err)
	}
	var rows []roster.Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.t.Fatal(err)
		}
		rows = append(rows, row)
	}
	out := map[string]roster.ReportLine{}
	for i, line := range w.applier.ApplyAll(ctx, sess, rows) {
		if line.Row != rows[i].Line {
			w.t.Fatalf("report line %d is for row %d, not %d", i, line.Row, rows[i].Line)
		}
		out[line.Email] = line
	}
	return out
}

// blindLookup sees no one: every row looks like a new person to the batch.
type blindLookup struct{ imports.Store }

func (blindLookup) RosterLookup(context.Context, string, []string) (map[string]bool, error) {
	return map[string]bool{}, nil
}

// Someone invited between the batch's lookup and its write is updated row
// by row, not reported as a failure.
func TestApplyAllFallsBackWhenInvitedMeanwhile(t *testing.T) {
	w := newWorld(t)
	w.invite("per@example.no", "member", w.nord)
	a := *w.applier
	a.Store = blindLookup{w.store}
	w.applier = &a
	got := w.run("", header+
		"Per,Persen,per@example.no,98765432,,Nord,Kari K,41234569,Lise L,41234570,,\n"+
		"Kari,Nordmann,kari@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,,\n")
	if got["per@example.no"].Outcome != roster.Updated || got["kari@example.no"].Outcome != roster.Created {
		t.Fatalf("%+v", got)
	}
}

const header = "Fornavn,Etternavn,E-post,Mobil,Rolle,Avdeling,Eskaleringskontakt 1 navn,Eskaleringskontakt 1 telefon,Eskaleringskontakt 2 navn,Eskaleringskontakt 2 telefon,Kodeord,Handling\n"

func TestApplyRoster(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// Ola is a member in Nord; Per has a pending invitation; Liv is a member to be removed; Gro is invited and leaves.
	w.invite("ola@example.no", "member", w.nord)
	ola := w.accept("ola@example.no")
	w.invite("per@example.no", "member", w.nord)
	w.invite("liv@example.no", "member", w.nord)
	w.accept("liv@example.no")
	w.invite("gro@example.no", "member", w.nord)
	w.invite("bo@example.no", "admin")
	w.accept("bo@example.no")

	csv := header +
		"Kari,Nordmann,kari@example.no,915 12 345,,Nord,Ola N,41234567,Per P,41234568,blåbær,\n" + // new: invited with profile
		"Ola,Olsen,ola@example.no,+4790000001,,Sør,Kari K,41234569,Lise L,41234570,,\n" + // member: unit and profile change
		"Per,Persen,per@example.no,98765432,,Nord,Kari K,41234569,Lise L,41234570,,\n" + // pending: mobile and profile
		",,liv@example.no,,,,,,,,,slutter\n" + // member leaves
		",,gro@example.no,,,,,,,,,remove\n" + // pending invitation revoked
		",,nobody@example.no,,,,,,,,,remove\n" + // nothing to remove
		"Vera,V,vera@example.no,915 12 346,,Vest,Ola N,41234567,Per P,41234568,,\n" + // unknown unit
		"Bo,B,bo@example.no,,,,,,,,,\n" + // an admin listed without a role keeps it
		"Nils,N,nils@example.no,,,,,,,,,\n" // a new worker without contacts
	got := w.run("", csv)
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
	kari, err := w.store.PendingInvitation(ctx, w.orgID, "kari@example.no")
	if err != nil || kari == nil || kari.Profile == nil || len(kari.Profile.EscalationContacts) != 2 || kari.Phone != "+4791512345" {
		t.Fatalf("kari %+v %v", kari, err)
	}
	m, _ := w.store.Member(ctx, w.orgID, ola)
	rec, _ := w.store.MonitoringProfile(ctx, w.orgID, ola)
	if m.Units[0] != w.sor || rec == nil || rec.Version != 1 || rec.EscalationContacts[0].Phone != "+4741234569" {
		t.Fatalf("ola %+v %+v", m, rec)
	}

	// The same file again changes nothing.
	again := w.run("", csv)
	for email, line := range again {
		if email == "vera@example.no" || email == "nils@example.no" {
			continue
		}
		if line.Outcome != roster.Unchanged {
			t.Errorf("second import, %s: %+v", email, line)
		}
	}

	// A coordinator of Nord may not place people in Sør.
	w.invite("cora@example.no", "coordinator", w.nord)
	cora := w.accept("cora@example.no")
	scoped := w.run(cora, header+"Siv,S,siv@example.no,915 12 347,,Sør,Ola N,41234567,Per P,41234568,,\n"+
		"Tor,T,tor@example.no,915 12 348,,Nord,Ola N,41234567,Per P,41234568,,\n")
	if scoped["siv@example.no"].Outcome != roster.Failed || scoped["tor@example.no"].Outcome != roster.Created {
		t.Fatalf("scoped %+v", scoped)
	}
}
