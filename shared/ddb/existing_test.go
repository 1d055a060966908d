package ddb_test

import (
	"context"
	"testing"

	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/org"
)

// An account's profile (names, phone) comes from the organisation where it
// was made. Another organisation that adds the account learns only what its
// own admin typed in, never what the first one holds.
func TestExistingAccountBringsNothingFromElsewhere(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgA, ada := f.provisionAndJoin(t, "ada@example.no")
	if _, err := f.svc.Invite(ctx, ada, orgA, invite.Request{Email: "kari@example.no", FirstName: "Kari", LastName: "Nordmann",
		Phone: "915 12 345", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, "kari@example.no"), FirstName: "Kari", LastName: "Nordmann",
		Password: "a long enough passphrase", AcceptTerms: true, TermsVersion: "v"}); err != nil {
		t.Fatal(err)
	}
	if acct, _ := f.store.AccountByEmail(ctx, "kari@example.no"); acct == nil || acct.Phone != "+4791512345" || acct.FirstName != "Kari" {
		t.Fatalf("the account should hold organisation A's details: %+v", acct)
	}

	orgB, bo := f.provisionAndJoin(t, "bo@example.no")
	added, err := f.svc.Invite(ctx, bo, orgB, invite.Request{Email: "kari@example.no", Role: "member"})
	if err != nil || added.Status != invite.Accepted {
		t.Fatalf("the existing account is added at once: %+v %v", added, err)
	}
	members, _, err := f.store.ListMembers(ctx, orgB, "", "", 50, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.Email != "kari@example.no" {
			continue
		}
		if m.FirstName != "" || m.LastName != "" || m.Phone != "" {
			t.Fatalf("organisation B's member list shows organisation A's data: %q %q %q", m.FirstName, m.LastName, m.Phone)
		}
		return
	}
	t.Fatal("kari is not a member of organisation B")
}

// With existingAccounts "invite", an existing account is invited like
// anyone else, and accepts by signing in with its own password (no new one).
func TestExistingAccountAcceptsBySigningIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgA, ada := f.provisionAndJoin(t, "ada@example.no")
	kari := f.join(t, ada, orgA, "kari@example.no", "member")

	orgB, bo := f.provisionAndJoin(t, "bo@example.no")
	orgs := &org.Service{Store: f.store, Now: f.clock.Now}
	setting := org.ExistingAccountsInvite
	if _, err := orgs.UpdateSettings(ctx, bo, orgB, org.SettingsChange{ExistingAccounts: &setting}); err != nil {
		t.Fatal(err)
	}
	inv, err := f.svc.Invite(ctx, bo, orgB, invite.Request{Email: "kari@example.no", FirstName: "Kari", Role: "coordinator"})
	if err != nil || inv.Status != invite.Pending {
		t.Fatalf("an ordinary invitation: %+v %v", inv, err)
	}
	if m, _ := f.store.Member(ctx, orgB, kari); m != nil {
		t.Fatal("a member before accepting")
	}
	token := f.mail.token(t, "kari@example.no")
	pv, err := f.svc.Preview(ctx, token)
	if err != nil || !pv.AccountExists {
		t.Fatalf("preview %+v %v", pv, err)
	}
	req := invite.AcceptRequest{Token: token, FirstName: "Kari", LastName: "N", AcceptTerms: true, TermsVersion: "v"}
	if _, err := f.svc.Accept(ctx, req); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("no password: %v", err)
	} else if e, _ := fault.As(err); len(e.Fields) != 1 || e.Fields[0].Field != "password" {
		t.Fatalf("no password: %+v", e.Fields)
	}
	req.Password = "a new password of my choosing"
	if _, err := f.svc.Accept(ctx, req); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("a password that is not the account's: %v", err)
	}
	req.Password = "a long enough passphrase" // the account's, from f.join
	j, err := f.svc.Accept(ctx, req)
	if err != nil || j.UserID != kari || j.OrgID != orgB || j.Role != "coordinator" {
		t.Fatalf("accept by signing in: %+v %v", j, err)
	}
	if m, _ := f.store.Member(ctx, orgB, kari); m == nil || m.Role != "coordinator" {
		t.Fatalf("membership %+v", m)
	}
	if _, err := f.signIn().SignIn(ctx, "kari@example.no", "a long enough passphrase", "192.0.2.1", ""); err != nil {
		t.Fatalf("the account's password still works: %v", err)
	}
}
