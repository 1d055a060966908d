package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/ddb"
	"onboarding/shared/invite"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

// The sweep binary under the runner: invitations past their expiry expire,
// the inviting admin gets one digest, a due reminder goes out with a link
// that opens the invitation, and a second run does nothing.
func TestSweepThroughRunner(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Sweep Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	var me struct {
		UserID string `json:"userId"`
	}
	mustStatus(t, admin.Call("GET", "/me", nil, &me), 200)

	// Invitations as they stand days later: three past their expiry, one
	// with its reminder due. (The binaries run on the real clock, so the
	// table is given the state rather than the clock moved.)
	now := time.Now().UTC().Truncate(time.Second)
	var invs []invite.Invitation
	for i := range 4 {
		_, hash, _ := opaque.New()
		inv := invite.Invitation{
			ID: invite.NewSortableID(now), OrgID: orgID, OrgName: "Sweep Care " + id,
			Email: fmt.Sprintf("p%d-%s@example.no", i, id), FirstName: "P", Language: "sv", Role: "member",
			Units: []string{}, Attributes: org.Attributes{}, Status: invite.Pending, DeliveryStatus: invite.DeliverySent,
			InvitedBy: me.UserID, InviterName: "Ada", TokenHash: hash,
			ExpiresAt: now.Add(-time.Duration(i+1) * time.Hour),
		}
		if i == 3 {
			inv.ExpiresAt = now.Add(48 * time.Hour)
		}
		r := inv.ExpiresAt.Add(-72 * time.Hour)
		inv.RemindAt = &r
		if i < 3 {
			inv.RemindedAt = &r
		}
		invs = append(invs, inv)
	}
	store := ddb.New(testenv.DynamoDBClient(), s.Table, time.Now)
	if err := store.LoadInvitations(context.Background(), testenv.DynamoDBClient(), invs, true); err != nil {
		t.Fatal(err)
	}

	sweep := func() invite.SweepReport {
		t.Helper()
		status, out, fnErr := invoke(t, s.InvokeURL, "SweepFunction", readEvent(t, "schedule-sweep.json"))
		var r invite.SweepReport
		if status != 200 || fnErr || json.Unmarshal(out, &r) != nil {
			t.Fatalf("sweep: %d %s", status, out)
		}
		return r
	}
	if r := sweep(); r.Expired != 3 || r.Reminded != 1 || r.Digests != 1 || r.Errors != 0 {
		t.Fatalf("report %+v", r)
	}
	var got struct {
		Status    string `json:"status"`
		ExpiredAt string `json:"expiredAt"`
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/invitations/"+invs[0].ID, nil, &got), 200)
	if got.Status != "expired" || got.ExpiredAt == "" {
		t.Fatalf("%+v", got)
	}
	digest := testenv.WaitForEmails(t, adminEmail, 2)[1] // after the admin's own invitation
	if !strings.Contains(digest.Subject, "3") || !strings.Contains(digest.Body.Text, invs[2].Email) {
		t.Fatalf("digest %q\n%s", digest.Subject, digest.Body.Text)
	}
	// The reminder, in the invitee's language, opens the invitation.
	reminder := testenv.WaitForEmails(t, invs[3].Email, 1)[0]
	if !strings.Contains(reminder.Body.HTML, `lang="sv"`) {
		t.Fatalf("reminder not in Swedish: %s", reminder.Body.HTML)
	}
	anon := &Client{t: t, base: s.APIURL}
	mustStatus(t, anon.Call("POST", "/invitations/preview", map[string]string{"token": InvitationToken(t, invs[3].Email, 1)}, nil), 200)

	ours := func() (n int) {
		for _, e := range testenv.AllEmails(t) {
			if strings.Contains(strings.Join(e.Destination.To, ","), id) {
				n++
			}
		}
		return n
	}
	before := ours()
	if r := sweep(); r.Expired+r.Reminded+r.Digests+r.Retried+r.Errors != 0 {
		t.Fatalf("second run: %+v", r)
	}
	time.Sleep(200 * time.Millisecond)
	if after := ours(); after != before {
		t.Fatalf("the second run sent %d emails", after-before)
	}
}
