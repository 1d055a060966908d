package selfservice

import (
	"context"
	"testing"
	"time"

	"onboarding/shared/fault"
)

func TestConsentToTerms(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc, store, _, _ := kari(t, &now)
	store.terms = map[string]string{"o1": "v2"}
	ctx := context.Background()
	me, err := svc.Me(ctx, "u1")
	if err != nil || len(me.Memberships) != 2 {
		t.Fatalf("me: %+v %v", me, err)
	}
	for _, m := range me.Memberships {
		switch {
		case m.OrgID == "o1" && (m.TermsStatus == nil || !m.TermsStatus.ConsentDue || m.TermsStatus.Version != "v2" || m.TermsStatus.URL != "https://example.com/o1"):
			t.Fatalf("o1's new terms are due: %+v", m.TermsStatus)
		case m.OrgID == "o2" && m.TermsStatus != nil:
			t.Fatalf("o2 has no terms of its own: %+v", m.TermsStatus)
		}
	}

	err = svc.ConsentToTerms(ctx, "u1", Consent{OrgID: "o1", TermsVersion: "v1"})
	if e, ok := fault.As(err); !ok || e.Code != fault.Conflict || e.Extra["currentTermsVersion"] != "v2" {
		t.Fatalf("a stale version is a conflict naming the current one: %v", err)
	}
	for _, c := range []Consent{{OrgID: "o9", TermsVersion: "v2"}, {OrgID: "o1", TermsVersion: "v2"}} {
		user := "u1"
		if c.OrgID == "o1" {
			user = "u3" // no member of o1
		}
		if err := svc.ConsentToTerms(ctx, user, c); fault.CodeOf(err) != fault.NotFound {
			t.Fatalf("%s in %s: %v", user, c.OrgID, err)
		}
	}
	if err := svc.ConsentToTerms(ctx, "u1", Consent{}); fields(err) != "invalid orgId:required,termsVersion:required" {
		t.Fatalf("empty: %v", err)
	}
	if err := svc.ConsentToTerms(ctx, "u1", Consent{OrgID: "o2", TermsVersion: "v2"}); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("an organisation without terms: %v", err)
	}
	if err := svc.ConsentToTerms(ctx, "u1", Consent{OrgID: "o1", TermsVersion: " v2 "}); err != nil {
		t.Fatal(err)
	}
	me, _ = svc.Me(ctx, "u1")
	for _, m := range me.Memberships {
		if m.OrgID == "o1" && (m.TermsStatus.ConsentDue || m.TermsStatus.AcceptedVersion != "v2" || !m.TermsStatus.AcceptedAt.Equal(now)) {
			t.Fatalf("consent recorded: %+v", m.TermsStatus)
		}
	}
}
