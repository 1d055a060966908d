package ddb_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/infra/testenv"
	"onboarding/shared/invite"
	"onboarding/shared/mail"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

// sesMailer sends through an SES v2 endpoint, trying once per email.
func sesMailer(t *testing.T, endpoint string) mail.InvitationMailer {
	t.Helper()
	client := sesv2.NewFromConfig(testenv.AWSConfig(), func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.RetryMaxAttempts = 1
	})
	m, err := mail.NewInvitationMailer(client, "no-reply@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// refusingEndpoint is an address where nothing listens.
func refusingEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// byRecipient counts the SES emulator's emails per recipient ending in suffix.
func byRecipient(t *testing.T, suffix string) map[string][]testenv.Email {
	t.Helper()
	out := map[string][]testenv.Email{}
	for _, e := range testenv.AllEmails(t) {
		for _, to := range e.Destination.To {
			if strings.HasSuffix(to, suffix) {
				out[to] = append(out[to], e)
			}
		}
	}
	return out
}

func TestSweepTenThousandPendingThreeHundredDue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	run := testenv.RandomID()
	suffix := "@" + run + ".sweep.test"
	// Two organisations; the first has two inviting admins.
	org1, admin1 := f.provisionAndJoin(t, "ada"+suffix)
	org2, admin2 := f.provisionAndJoin(t, "bo"+suffix)
	if _, err := f.svc.Invite(ctx, admin1, org1, invite.Request{Email: "cy2" + suffix, Role: "admin", FirstName: "Cy"}); err != nil {
		t.Fatal(err)
	}
	joined, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, "cy2"+suffix), FirstName: "Cy", LastName: "Admin",
		Password: "a long enough passphrase", AcceptTerms: true, TermsVersion: "2026-01"})
	if err != nil {
		t.Fatal(err)
	}
	admin3 := joined.UserID
	nothingDone(t, f.sweep(t)) // sets the checkpoint; nothing is due yet

	now := f.clock.Now()
	inviters := []struct{ org, admin string }{{org1, admin1}, {org1, admin3}, {org2, admin2}}
	var invs []invite.Invitation
	due, remind := map[string]bool{}, map[string]bool{}
	for i := range 10000 {
		by := inviters[i%3]
		_, hash, _ := opaque.New()
		inv := invite.Invitation{
			ID: invite.NewSortableID(now), OrgID: by.org, OrgName: "Org", Email: fmt.Sprintf("p%05d%s", i, suffix),
			FirstName: "P", LastName: fmt.Sprint(i), Language: []string{"nb", "sv", "en"}[i%3], Role: "member",
			Units: []string{}, Attributes: org.Attributes{}, Status: invite.Pending, DeliveryStatus: invite.DeliverySent,
			InvitedBy: by.admin, InviterName: "Admin", TokenHash: hash,
		}
		switch {
		case i < 300: // expired over the last few days
			inv.ExpiresAt = now.Add(-time.Duration(i%4)*day - time.Hour)
			due[inv.Email] = true
		case i < 500: // reminder due
			inv.ExpiresAt = now.Add(2 * day)
			remind[inv.Email] = true
		default: // not due for days
			inv.ExpiresAt = now.Add(time.Duration(4+i%25) * day)
		}
		inv.CreatedAt = inv.ExpiresAt.Add(-30 * day)
		r := inv.ExpiresAt.Add(-3 * day)
		inv.RemindAt = &r
		if i < 300 {
			inv.RemindedAt = &r // already reminded
		}
		invs = append(invs, inv)
	}
	started := time.Now()
	if err := f.store.LoadInvitations(ctx, testenv.DynamoDBClient(), invs, true); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded 10,000 invitations in %s", time.Since(started).Round(time.Millisecond))

	w := f.sweeper()
	w.Mailer = sesMailer(t, testenv.SESEndpoint())
	w.Workers = 8
	started = time.Now()
	r, err := w.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sweep: %+v in %s", r, time.Since(started).Round(time.Millisecond))
	if r.Expired != 300 || r.Reminded != 200 || r.Digests != 3 || r.Errors != 0 || r.More {
		t.Fatalf("report %+v", r)
	}
	// Exactly the due ones expired.
	if n := countStatus(t, f.table, org1, invite.Expired) + countStatus(t, f.table, org2, invite.Expired); n != 300 {
		t.Fatalf("%d expired", n)
	}
	for _, inv := range invs[:300] {
		if got := f.get(t, inv.OrgID, inv.ID); got.Status != invite.Expired {
			t.Fatalf("%s: %s", inv.Email, got.Status)
		}
	}
	// Reminders and digests, read back from the SES emulator: once each.
	mails := byRecipient(t, suffix)
	reminded := 0
	for to, ms := range mails {
		switch {
		case remind[to]:
			if len(ms) != 1 || !strings.Contains(ms[0].Body.Text, "#token=") {
				t.Fatalf("%s: %d emails", to, len(ms))
			}
			reminded++
		case due[to]:
			t.Fatalf("%s expired and got an email", to)
		}
	}
	if reminded != 200 {
		t.Fatalf("%d reminded", reminded)
	}
	for _, admin := range []string{"ada" + suffix, "bo" + suffix, "cy2" + suffix} {
		var digests []testenv.Email
		for _, m := range mails[admin] {
			if !strings.Contains(m.Body.Text, "#token=") { // not their own invitation
				digests = append(digests, m)
			}
		}
		if len(digests) != 1 || !strings.Contains(digests[0].Subject, "100") {
			t.Fatalf("digests to %s: %d %v", admin, len(digests), digests)
		}
	}

	// A second run changes nothing and sends nothing.
	count := func() (n int) {
		for _, ms := range byRecipient(t, suffix) {
			n += len(ms)
		}
		return n
	}
	before := count()
	r2, err := w.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nothingDone(t, r2)
	if after := count(); after != before {
		t.Fatalf("the second run sent %d emails", after-before)
	}
}

func TestSESRefusingThenBack(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	suffix := "@" + testenv.RandomID() + ".ses.test"
	orgID, adminID := f.provisionAndJoin(t, "ada"+suffix)

	// SES refuses connections: the invitation is kept, pending, failed.
	f.svc.Mailer = sesMailer(t, refusingEndpoint(t))
	inv := f.invite(t, orgID, adminID, "kari"+suffix)
	got := f.get(t, orgID, inv.ID)
	if got.Status != invite.Pending || got.DeliveryStatus != invite.DeliveryFailed || got.NextDeliveryAt == nil {
		t.Fatalf("%+v", got)
	}
	// Still down at the first retry.
	w := f.sweeper()
	w.Mailer = sesMailer(t, refusingEndpoint(t))
	f.clock.Add(5 * time.Minute)
	if r, err := w.Run(ctx); err != nil || r.SendFailures != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	if n := len(testenv.Emails(t, "kari"+suffix)); n != 0 {
		t.Fatalf("%d emails while SES was down", n)
	}
	// Back: the next due run sends it, once, with a link that works.
	w.Mailer = sesMailer(t, testenv.SESEndpoint())
	f.clock.Add(15 * time.Minute)
	if r, err := w.Run(ctx); err != nil || r.Retried != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	emails := testenv.WaitForEmails(t, "kari"+suffix, 1)
	_, token, ok := strings.Cut(emails[0].Body.Text, "#token=")
	if !ok {
		t.Fatalf("no link in %q", emails[0].Body.Text)
	}
	token = strings.Fields(token)[0]
	if _, err := f.svc.Preview(ctx, token); err != nil {
		t.Fatalf("the link of the retried email: %v", err)
	}
	if got := f.get(t, orgID, inv.ID); got.DeliveryStatus != invite.DeliverySent || got.NextDeliveryAt != nil {
		t.Fatalf("%+v", got)
	}
	if r, err := w.Run(ctx); err != nil {
		t.Fatal(err)
	} else {
		nothingDone(t, r)
	}
	if n := len(testenv.Emails(t, "kari"+suffix)); n != 1 {
		t.Fatalf("%d emails", n)
	}
}
