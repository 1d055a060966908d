// Package ingesttest is the organisation the import tests work in, on
// DynamoDB Local: the row application's, the ingest's and the import
// routes' tests share it.
package ingesttest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/account"
	"onboarding/shared/ddb"
	"onboarding/shared/ingest/apply"
	"onboarding/shared/invite"
	"onboarding/shared/org"
	"onboarding/shared/phone"
)

// Header is a roster's header row in Norwegian, the columns the tests fill.
const Header = "Fornavn,Etternavn,E-post,Mobil,Rolle,Avdeling,Eskaleringskontakt 1 navn,Eskaleringskontakt 1 telefon,Eskaleringskontakt 2 navn,Eskaleringskontakt 2 telefon,Kodeord,Handling\n"

// Links keeps the token of the last invitation sent to each address.
type Links struct {
	mu   sync.Mutex
	byTo map[string]string
}

func (l *Links) SendInvitation(_ context.Context, inv invite.Invitation, link string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, l.byTo[inv.Email], _ = strings.Cut(link, "#token=")
	return nil
}
func (l *Links) SendAdded(context.Context, invite.Invitation, string, string, string) error {
	return nil
}

// World is an organisation (units Nord and Sør) with its admin, in a table
// of its own.
type World struct {
	T       *testing.T
	Store   *ddb.Store
	Svc     *invite.Service
	Mail    *Links
	Applier *apply.Applier
	OrgID   string
	Admin   string
	Nord    string
	Sor     string
}

// NewWorld provisions the organisation and signs its admin up.
func NewWorld(t *testing.T) *World {
	client, table := testenv.Table(t)
	store := ddb.New(client, table, time.Now)
	mail := &Links{byTo: map[string]string{}}
	svc := &invite.Service{Store: store, Mailer: mail, Phones: phone.Normalize, AcceptURL: "http://localhost/accept", Now: time.Now,
		Hasher: account.Hasher{Params: account.Params{MemoryKiB: 1024, Time: 1, Threads: 1}}}
	w := &World{T: t, Store: store, Svc: svc, Mail: mail,
		Applier: &apply.Applier{Store: store, Invites: svc, Phones: phone.Normalize, Now: time.Now}}
	ctx := context.Background()
	p, err := svc.Provision(ctx, invite.ProvisionRequest{Name: "Nordlys Care", AdminEmail: "ada@example.no", DefaultPhoneRegion: "NO"})
	if err != nil {
		t.Fatal(err)
	}
	w.OrgID = p.OrgID
	w.Admin = w.Accept("ada@example.no")
	orgs := &org.Service{Store: store, Now: time.Now}
	nord, _ := orgs.CreateUnit(ctx, w.Admin, w.OrgID, "Nord")
	sor, _ := orgs.CreateUnit(ctx, w.Admin, w.OrgID, "Sør")
	w.Nord, w.Sor = nord.ID, sor.ID
	return w
}

// Accept accepts the last invitation sent to email and returns the user id.
func (w *World) Accept(email string) string {
	w.T.Helper()
	w.Mail.mu.Lock()
	tok := w.Mail.byTo[email]
	w.Mail.mu.Unlock()
	j, err := w.Svc.Accept(context.Background(), invite.AcceptRequest{Token: tok, FirstName: "F", LastName: "L",
		Password: "a long enough passphrase", AcceptTerms: true, TermsVersion: "2026-01"})
	if err != nil {
		w.T.Fatalf("accept %s: %v", email, err)
	}
	return j.UserID
}

// Invite invites email as the admin.
func (w *World) Invite(email, role string, units ...string) {
	w.T.Helper()
	if _, err := w.Svc.Invite(context.Background(), w.Admin, w.OrgID, invite.Request{Email: email, Role: role, Units: units, Phone: "+4790000001"}); err != nil {
		w.T.Fatal(err)
	}
}
