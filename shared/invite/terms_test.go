package invite

import (
	"context"
	"testing"
	"time"

	"onboarding/shared/account"
	"onboarding/shared/fault"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

// An organisation's own terms replace the deployment's: the preview names
// them, accept takes only their version and records it on the membership
// and in the audit entry, with a new account or an existing one.
func TestAcceptRecordsTheOrganisationsTermsVersion(t *testing.T) {
	token, hash, _ := opaque.New()
	inv := Invitation{ID: "i1", OrgID: "o1", Email: "k@example.no", Role: "member", Status: Pending, TokenHash: hash, ExpiresAt: now.Add(time.Hour)}
	hasher := account.Hasher{Params: account.Params{MemoryKiB: 1024, Time: 1, Threads: 1}}
	existingHash, _ := hasher.Hash("existing account secret")
	o := org.Organisation{ID: "o1", Settings: org.NewSettings(30)}
	o.Settings.TermsURL, o.Settings.TermsVersion = "https://example.com/terms", "v1"
	for _, existing := range []*account.Account{nil, {UserID: "u9", Email: "k@example.no", PasswordHash: existingHash}} {
		var got *Acceptance
		svc := &Service{Hasher: hasher, TermsVersion: "2026-01", Now: func() time.Time { return now },
			Store: &fakeStore{
				InvitationByTokenFn: func(context.Context, string) (Invitation, error) { return inv, nil },
				AccountByEmailFn:    func(context.Context, string) (*account.Account, error) { return existing, nil },
				ActorFn: func(_ context.Context, orgID, _ string) (org.Organisation, *org.Member, error) {
					return o, nil, nil
				},
				AcceptFn: func(_ context.Context, a Acceptance) error { got = &a; return nil },
			}}
		ctx := context.Background()
		pv, err := svc.Preview(ctx, token)
		if err != nil || pv.TermsURL != "https://example.com/terms" || pv.TermsVersion != "v1" {
			t.Fatalf("preview: %+v %v", pv, err)
		}
		req := AcceptRequest{Token: token, FirstName: "K", LastName: "N", Password: "existing account secret", AcceptTerms: true, TermsVersion: "2026-01"}
		_, err = svc.Accept(ctx, req)
		if e, ok := fault.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Field != "termsVersion" || got != nil {
			t.Fatalf("the deployment's version where the organisation has its own: %v", err)
		}
		req.TermsVersion = "v1"
		if _, err := svc.Accept(ctx, req); err != nil || got == nil {
			t.Fatalf("accept: %v", err)
		}
		if got.Member.TermsVersion != "v1" || got.Member.TermsAcceptedAt == nil || !got.Member.TermsAcceptedAt.Equal(now.Truncate(time.Second)) ||
			got.Audit.After["termsVersion"] != "v1" {
			t.Fatalf("recorded: %+v %+v", got.Member, got.Audit.After)
		}
		if m := got.Member; m.Terms(o).ConsentDue {
			t.Fatal("just accepted: no consent due")
		}
	}
}
