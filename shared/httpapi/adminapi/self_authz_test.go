package adminapi_test

import (
	"context"
	"time"

	"onboarding/shared/account"
	"onboarding/shared/ddb"
	"onboarding/shared/invite"
	"onboarding/shared/phone"
	"onboarding/shared/selfservice"
)

// noAccountMail sends nothing.
type noAccountMail struct{}

func (noAccountMail) SendEmailChange(context.Context, string, string, string, string) error {
	return nil
}
func (noAccountMail) SendEmailChangeNotice(context.Context, string, string, string, string) error {
	return nil
}

func selfService(store *ddb.Store) *selfservice.Service {
	return &selfservice.Service{Store: store, Hasher: account.Hasher{Params: account.Params{MemoryKiB: 1024, Time: 1, Threads: 1}},
		Guesses: account.NewGuesses(store, time.Now), Mailer: noAccountMail{}, Phones: phone.Normalize,
		Languages: []string{"en", "nb"}, Now: time.Now}
}

// leaveOrg returns an organisation every actor but the other
// organisation's admin was added to, made once: each leaves it in turn.
func (w *world) leaveOrg() string {
	w.t.Helper()
	if w.leaving != "" {
		return w.leaving
	}
	ctx := context.Background()
	ownerEmail := w.email("leave-owner")
	p, err := w.svc.Provision(ctx, invite.ProvisionRequest{Name: "Leave Org", AdminEmail: ownerEmail})
	if err != nil {
		w.t.Fatal(err)
	}
	owner := w.acceptProvisioned(p.InvitationID, ownerEmail, p.OrgID)
	for _, actor := range actorOrder[:6] {
		a, err := w.store.Account(ctx, w.actors[actor])
		if err != nil || a == nil {
			w.t.Fatalf("account of %s: %v", actor, err)
		}
		inv, err := w.svc.Invite(ctx, owner, p.OrgID, invite.Request{Email: a.Email, Role: "member"})
		if err != nil || inv.Status != invite.Accepted {
			w.t.Fatalf("add %s: %v %s", actor, err, inv.Status)
		}
	}
	w.leaving = p.OrgID
	return w.leaving
}
