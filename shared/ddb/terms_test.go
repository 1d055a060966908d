package ddb_test

import (
	"context"
	"testing"

	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/org"
	"onboarding/shared/selfservice"
)

// Terms per organisation: accepting records the organisation's version on
// the membership (and in the audit entry), whether a new account is made
// or an existing one signs in; someone added at once has accepted nothing;
// a new version makes consent due until the member consents to it, and
// consent to a version that is no longer current is a conflict.
func TestTermsPerOrganisationAgainstDynamoDBLocal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgA, ada := f.provisionAndJoin(t, "ada@example.no")
	kari := f.join(t, ada, orgA, "kari@example.no", "member")
	orgB, bo := f.provisionAndJoin(t, "bo@example.no")
	orgs := &org.Service{Store: f.store, Now: f.clock.Now}
	setTerms := func(orgID, admin, version string) {
		t.Helper()
		url := "https://example.com/terms/" + version
		if _, err := orgs.UpdateSettings(ctx, admin, orgID, org.SettingsChange{TermsURL: &url, TermsVersion: &version}); err != nil {
			t.Fatal(err)
		}
	}
	setTerms(orgB, bo, "v1")
	inviteMode := org.ExistingAccountsInvite
	if _, err := orgs.UpdateSettings(ctx, bo, orgB, org.SettingsChange{ExistingAccounts: &inviteMode}); err != nil {
		t.Fatal(err)
	}

	// A new account and an existing one (signing in) accept v1.
	for _, email := range []string{"nils@example.no", "kari@example.no"} {
		if _, err := f.svc.Invite(ctx, bo, orgB, invite.Request{Email: email, Role: "member"}); err != nil {
			t.Fatal(err)
		}
		token := f.mail.token(t, email)
		pv, err := f.svc.Preview(ctx, token)
		if err != nil || pv.TermsURL != "https://example.com/terms/v1" || pv.TermsVersion != "v1" {
			t.Fatalf("preview: %+v %v", pv, err)
		}
		req := invite.AcceptRequest{Token: token, FirstName: "F", LastName: "L", Password: "a long enough passphrase", AcceptTerms: true, TermsVersion: "v1"}
		j, err := f.svc.Accept(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		m, _ := f.store.Member(ctx, orgB, j.UserID)
		if m == nil || m.TermsVersion != "v1" || m.TermsAcceptedAt == nil {
			t.Fatalf("%s: membership %+v", email, m)
		}
	}
	entries, _, err := f.store.AuditTrail(ctx, orgB, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for _, e := range entries {
		if e.Action == audit.InvitationAccepted && e.After["termsVersion"] == "v1" {
			accepted++
		}
	}
	if accepted != 2 {
		t.Fatalf("%d acceptances name v1 in the audit trail", accepted)
	}
	// Kari's membership of A (no terms of its own) records none.
	if m, _ := f.store.Member(ctx, orgA, kari); m == nil || m.TermsVersion != "" {
		t.Fatalf("organisation A: %+v", m)
	}

	// Someone added at once has not accepted B's terms.
	orgC, cy := f.provisionAndJoin(t, "cy@example.no")
	setTerms(orgC, cy, "c1")
	if inv, err := f.svc.Invite(ctx, cy, orgC, invite.Request{Email: "kari@example.no", Role: "member"}); err != nil || inv.Status != invite.Accepted {
		t.Fatalf("added at once: %+v %v", inv, err)
	}

	self := &selfservice.Service{Store: f.store, Now: f.clock.Now}
	due := func() map[string]bool {
		t.Helper()
		me, err := self.Me(ctx, kari)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, m := range me.Memberships {
			if m.TermsStatus != nil {
				out[m.OrgID] = m.TermsStatus.ConsentDue
			}
		}
		return out
	}
	if d := due(); len(d) != 2 || d[orgB] || !d[orgC] {
		t.Fatalf("due after joining: %v", d)
	}
	setTerms(orgB, bo, "v2")
	if d := due(); !d[orgB] || !d[orgC] {
		t.Fatalf("due after v2: %v", d)
	}
	err = self.ConsentToTerms(ctx, kari, selfservice.Consent{OrgID: orgB, TermsVersion: "v1"})
	if e, ok := fault.As(err); !ok || e.Code != fault.Conflict || e.Extra["currentTermsVersion"] != "v2" {
		t.Fatalf("stale: %v", err)
	}
	if err := self.ConsentToTerms(ctx, kari, selfservice.Consent{OrgID: orgB, TermsVersion: "v2"}); err != nil {
		t.Fatal(err)
	}
	if err := self.ConsentToTerms(ctx, kari, selfservice.Consent{OrgID: orgC, TermsVersion: "c1"}); err != nil {
		t.Fatal(err)
	}
	if d := due(); d[orgB] || d[orgC] {
		t.Fatalf("due after consenting: %v", d)
	}
	if err := self.ConsentToTerms(ctx, ada, selfservice.Consent{OrgID: orgB, TermsVersion: "v2"}); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("no member: %v", err)
	}

	// The store's own check: a version replaced after it was read.
	m, _ := f.store.Member(ctx, orgB, kari)
	err = f.store.RecordConsent(ctx, *m, "v1", f.clock.Now(), audit.New(orgB, kari, audit.TermsAccepted, "member", kari, f.clock.Now()))
	if fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("a replaced version: %v", err)
	}
	gone := org.Member{OrgID: orgB, UserID: "nobody"}
	err = f.store.RecordConsent(ctx, gone, "v2", f.clock.Now(), audit.New(orgB, "nobody", audit.TermsAccepted, "member", "nobody", f.clock.Now()))
	if fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("no membership: %v", err)
	}
}
