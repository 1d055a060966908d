package ddb_test

import (
	"context"
	"testing"

	"onboarding/shared/invite"
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
