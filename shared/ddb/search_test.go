package ddb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/audit"
	"onboarding/shared/ddb"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/org"
	"onboarding/shared/search"
	"onboarding/shared/selfservice"
)

// entries reads every search entry of orgID's kind ("MEMBERS" or
// "INVITES") straight from the table: sort key -> the list's JSON of it.
func (f fixture) entries(t *testing.T, orgID, kind string) map[string]string {
	t.Helper()
	client := testenv.DynamoDBClient()
	out := map[string]string{}
	in := &dynamodb.QueryInput{TableName: &f.table, KeyConditionExpression: aws.String("PK = :pk"), ConsistentRead: aws.Bool(true),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "ORG#" + orgID + "#SEARCH#" + kind}}}
	for p := dynamodb.NewQueryPaginator(client, in); p.HasMorePages(); {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			sk := it["SK"].(*types.AttributeValueMemberS).Value
			var v any = &org.Member{}
			if kind == "INVITES" {
				v = &invite.Invitation{}
				if _, secret := it["tokenHash"]; secret {
					t.Errorf("entry %s copies the token hash", sk)
				}
			}
			if err := attributevalue.UnmarshalMap(it, v); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(v)
			out[sk] = string(b)
		}
	}
	return out
}

// indexMatches checks that orgID's entries are exactly one per distinct
// folded term of each member and invitation, each showing what the item
// shows: what every write path must keep true.
func (f fixture) indexMatches(t *testing.T, orgID, step string) {
	t.Helper()
	ctx := context.Background()
	want := map[string]map[string]string{"MEMBERS": {}, "INVITES": {}}
	for cursor := "first"; cursor != ""; {
		if cursor == "first" {
			cursor = ""
		}
		ms, next, err := f.store.ListMembers(ctx, orgID, "", "", 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			b, _ := json.Marshal(m)
			for _, term := range search.Terms(m.Email, m.FirstName, m.LastName) {
				want["MEMBERS"][term+"#"+m.UserID] = string(b)
			}
		}
		cursor = next
	}
	for cursor := "first"; cursor != ""; {
		if cursor == "first" {
			cursor = ""
		}
		invs, next, err := f.store.ListInvitations(ctx, orgID, "", 100, cursor, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			b, _ := json.Marshal(inv)
			for _, term := range search.Terms(inv.Email, inv.FirstName, inv.LastName) {
				want["INVITES"][term+"#"+inv.ID] = string(b)
			}
		}
		cursor = next
	}
	for kind, w := range want {
		got := f.entries(t, orgID, kind)
		for sk, v := range w {
			if got[sk] != v {
				t.Errorf("%s: %s entry %s is\n  %s\nwant\n  %s", step, kind, sk, got[sk], v)
			}
		}
		for sk := range got {
			if _, ok := w[sk]; !ok {
				t.Errorf("%s: %s entry %s is left behind", step, kind, sk)
			}
		}
	}
}

// Every write path that creates, changes or deletes a member or an
// invitation keeps its entries right, in the same transaction: invite,
// accept, add an existing account, roster rows, resend, delivery, revoke,
// delete, change of role and units, change of names, change of address,
// expiry, erasure, removal.
func TestEveryWriteKeepsTheSearchIndexRight(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	f.indexMatches(t, orgID, "provision and accept")
	north := f.unit(t, orgID, ada, "North")

	ola, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "ola@example.no", FirstName: "Ola", LastName: "Østby", Role: "member", Units: []string{north}})
	if err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "invite")
	if _, err := f.svc.Resend(ctx, ada, orgID, ola.ID); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "resend")
	delivered := f.get(t, orgID, ola.ID)
	delivered.DeliveryStatus = "failed"
	if err := f.store.RecordDelivery(ctx, delivered); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "delivery")
	if _, err := f.svc.Remove(ctx, ada, orgID, ola.ID); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "revoke")
	if _, err := f.svc.Remove(ctx, ada, orgID, ola.ID); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "delete")

	kari := f.join(t, ada, orgID, "kari@example.no", "member", north)
	f.indexMatches(t, orgID, "join")
	members := &membership.Service{Store: f.store, Now: f.clock.Now}
	if _, err := members.Update(ctx, ada, orgID, kari, membership.Change{Role: strp("coordinator"), Units: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "role and units")

	// Kari is in a second organisation (an existing account added at once).
	orgB, bo := f.provisionAndJoin(t, "bo@example.no")
	if inv, err := f.svc.Invite(ctx, bo, orgB, invite.Request{Email: "kari@example.no", Role: "member"}); err != nil || inv.Status != invite.Accepted {
		t.Fatalf("add kari to B: %+v %v", inv, err)
	}
	f.indexMatches(t, orgB, "add an existing account")
	mail := &changeLinks{byTo: map[string]string{}, notice: map[string]int{}}
	self := f.self(mail)
	first, last := "Kåri", "Nordmann"
	if _, err := self.UpdateProfile(ctx, kari, selfservice.ProfileChange{FirstName: &first, LastName: &last}); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "names")
	f.indexMatches(t, orgB, "names")
	if err := self.StartEmailChange(ctx, kari, "203.0.113.9", "https://app.example",
		selfservice.EmailChangeRequest{NewEmail: "kari.n@example.org", Password: "a long enough passphrase"}); err != nil {
		t.Fatal(err)
	}
	tok, _ := strings.CutPrefix(mail.byTo["kari.n@example.org"], "https://app.example/email-change#token=")
	if err := self.ConfirmEmailChange(ctx, tok); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "address")
	f.indexMatches(t, orgB, "address")
	if err := members.Remove(ctx, ada, orgID, kari); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "removal")

	// Roster rows, then expiry and erasure of one of them.
	now := f.clock.Now()
	var rows []invite.Invitation
	var entries []audit.Entry
	for i, name := range []string{"Åse", "Émile", "Zoë"} {
		inv := invite.Invitation{ID: fmt.Sprintf("roster-%d", i), OrgID: orgID, Email: fmt.Sprintf("r%d@example.no", i), FirstName: name, LastName: "Ås",
			Role: "member", Units: []string{}, Status: invite.Pending, CreatedAt: now, ExpiresAt: now.Add(time.Hour), TokenHash: hashOf(name)}
		rows = append(rows, inv)
		entries = append(entries, audit.New(orgID, ada, audit.InvitationCreated, "invitation", inv.ID, now))
	}
	for _, err := range f.store.CreateInvitations(ctx, rows, entries) {
		if err != nil {
			t.Fatal(err)
		}
	}
	f.indexMatches(t, orgID, "roster")
	f.clock.Add(2 * time.Hour)
	at := f.clock.Now()
	if err := f.store.Expire(ctx, f.get(t, orgID, "roster-0"), invite.Expiry{At: at, KeepUntil: at.Add(90 * 24 * time.Hour),
		Audit: audit.New(orgID, audit.System, audit.InvitationExpired, "invitation", "roster-0", at)}); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "expiry")
	if err := f.store.EraseInvitation(ctx, f.get(t, orgID, "roster-1"), ptr(audit.New(orgID, audit.System, audit.InvitationExpired, "invitation", "roster-1", at))); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "erasure")
}

func ptr[T any](v T) *T { return &v }

// Search pages: prefixes of email, first and last name in any case and
// with or without accents; a person matching on two terms once, across
// page boundaries; filters; unit-scoped callers see their units only.
func TestSearchPagesFiltersAndScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	north, south := f.unit(t, orgID, ada, "North"), f.unit(t, orgID, ada, "South")
	people := []struct{ email, first, last, unit string }{
		{"anna@example.no", "Anna", "Andersen", north},
		{"orjan@example.no", "Ørjan", "Berg", north},
		{"x1@example.no", "Andreas", "Olsen", south},
		{"x2@example.no", "Éric", "Annan", south},
		{"x3@example.no", "Bo", "Nilsen", north},
	}
	for _, p := range people {
		if _, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: p.email, FirstName: p.first, LastName: p.last, Role: "member", Units: []string{p.unit}}); err != nil {
			t.Fatal(err)
		}
	}
	invitations := func(q, status string, limit int) []string {
		var names []string
		for cursor, first := "", true; first || cursor != ""; first = false {
			page, next, err := f.store.SearchInvitations(ctx, orgID, search.Fold(q), invite.Status(status), limit, cursor, f.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			for _, inv := range page {
				names = append(names, inv.FirstName)
			}
			cursor = next
		}
		return names
	}
	for q, want := range map[string]string{
		"an":     "Anna Andreas Éric", // andersen, andreas, annan (Anna's "anna" entry skipped)
		"ORJ":    "Ørjan",
		"ørjan":  "Ørjan",
		"eric":   "Éric",
		"x":      "Andreas Éric Bo",
		"anna@e": "Anna",
		"zz":     "",
	} {
		for _, limit := range []int{1, 2, 100} {
			got := strings.Join(invitations(q, "", limit), " ")
			if got != want {
				t.Errorf("q %q limit %d: %q, want %q", q, limit, got, want)
			}
		}
	}
	if got := invitations("an", "accepted", 100); len(got) != 0 {
		t.Errorf("status filter: %v", got)
	}

	// Members: join two, search with role and unit filters, and as a
	// coordinator of South.
	f.join(t, ada, orgID, "nils@example.no", "member", north)
	coord := f.join(t, ada, orgID, "nina@example.no", "coordinator", south)
	for _, c := range []struct {
		role, unit string
		want       int
	}{{"", "", 2}, {"member", "", 1}, {"", south, 1}, {"admin", "", 0}} {
		ms, _, err := f.store.SearchMembers(ctx, orgID, "ni", c.role, c.unit, 50, "")
		if err != nil || len(ms) != c.want {
			t.Errorf("role %q unit %q: %d %v", c.role, c.unit, len(ms), err)
		}
	}
	members := &membership.Service{Store: f.store, Now: f.clock.Now}
	page, err := members.List(ctx, coord, orgID, membership.Query{Q: "NI"})
	if err != nil || len(page.Items) != 1 || page.Items[0].Email != "nina@example.no" {
		t.Fatalf("coordinator of South searches: %+v %v", page.Items, err)
	}
	invs, err := f.svc.List(ctx, coord, orgID, invite.ListQuery{Q: "an"})
	var seen []string
	for _, inv := range invs.Items {
		seen = append(seen, inv.FirstName)
		if !slices.Contains(inv.Units, south) {
			t.Errorf("coordinator of South sees %s", inv.FirstName)
		}
	}
	if err != nil || strings.Join(seen, " ") != "Andreas Éric" {
		t.Fatalf("coordinator's invitations: %v %v", seen, err)
	}
}

// The backfill writes the entries of members and invitations stored
// before entries existed (here: their entries deleted), and running it
// again changes nothing.
func TestBackfillWritesSearchEntries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	f.join(t, ada, orgID, "kari@example.no", "member")
	for _, to := range []string{"ola@example.no", "åse@example.no"} {
		if _, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: to, FirstName: "Øy", LastName: "Ås", Role: "member"}); err != nil {
			t.Fatal(err)
		}
	}
	client := testenv.DynamoDBClient()
	for _, kind := range []string{"MEMBERS", "INVITES"} {
		for sk := range f.entries(t, orgID, kind) {
			if _, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &f.table, Key: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "ORG#" + orgID + "#SEARCH#" + kind}, "SK": &types.AttributeValueMemberS{Value: sk}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ms, _, _ := f.store.SearchMembers(ctx, orgID, "kari", "", "", 10, ""); len(ms) != 0 {
		t.Fatal("entries left")
	}
	for run := range 2 {
		b := ddb.NewBackfiller(client, f.table)
		b.PageSize = 5
		written := 0
		for seg := range 3 {
			var start map[string]types.AttributeValue
			for {
				page, err := b.SearchEntries(ctx, seg, 3, start)
				if err != nil {
					t.Fatal(err)
				}
				written += page.Updated
				if start = page.Next; start == nil {
					break
				}
			}
		}
		if written != 6 { // ada and kari as members and invitations, ola, åse
			t.Errorf("run %d wrote the entries of %d items, want 6", run, written)
		}
		f.indexMatches(t, orgID, fmt.Sprintf("backfill run %d", run))
	}
}

// TestRacingWritesLeaveNoStaleEntries: a write works from the item as it
// read it, and rewrites its search entries from that. Interleaved with
// another write (here a removal or a role change read before a name change
// landed), it must fail rather than leave entries of a state the item no
// longer has: before, the removal deleted the member and left entries of
// the new name, so a removed person stayed searchable (review).
func TestRacingWritesLeaveNoStaleEntries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	kari := f.join(t, ada, orgID, "kari@example.no", "member")
	asRead, err := f.store.Member(ctx, orgID, kari)
	if err != nil || asRead == nil {
		t.Fatal(asRead, err)
	}
	self := f.self(&changeLinks{byTo: map[string]string{}, notice: map[string]int{}})
	first, last := "Kåri", "Nordmann"
	if _, err := self.UpdateProfile(ctx, kari, selfservice.ProfileChange{FirstName: &first, LastName: &last}); err != nil {
		t.Fatal(err)
	}
	// A role change and a removal decided on the member as read before.
	moved := *asRead
	moved.Role = "coordinator"
	if err := f.store.UpdateMember(ctx, *asRead, moved, audit.New(orgID, ada, audit.MemberUpdated, "member", kari, f.clock.Now())); err == nil {
		t.Fatal("a role change from a stale read went through")
	}
	if err := f.store.RemoveMember(ctx, *asRead, audit.New(orgID, ada, audit.MemberRemoved, "member", kari, f.clock.Now())); err == nil {
		t.Fatal("a removal from a stale read went through")
	}
	f.indexMatches(t, orgID, "after the racing writes")
	// Read again, the removal goes through and takes every entry with it.
	fresh, _ := f.store.Member(ctx, orgID, kari)
	if err := f.store.RemoveMember(ctx, *fresh, audit.New(orgID, ada, audit.MemberRemoved, "member", kari, f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "removed")
	for sk := range f.entries(t, orgID, "MEMBERS") {
		if strings.Contains(sk, kari) {
			t.Fatalf("entry %s outlived the member", sk)
		}
	}
}

// TestGuardsCoverMissingAttributesAndOldItems: an attribute the item lacked
// when read and gained meanwhile (a phone) stops a write decided without it;
// an item stored before a field existed (no deliveryAttempts) is still
// written, its lack read as the zero value; a delivery outcome sets only the
// delivery fields of the entries, so it keeps a change made while sending.
func TestGuardsCoverMissingAttributesAndOldItems(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	client := testenv.DynamoDBClient()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	kari := f.join(t, ada, orgID, "kari@example.no", "member")
	asRead, _ := f.store.Member(ctx, orgID, kari)
	memberKey := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + orgID}, "SK": &types.AttributeValueMemberS{Value: "MEMBER#" + kari}}
	if _, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &f.table, Key: memberKey,
		UpdateExpression:          aws.String("SET phone = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "+4791234567"}}}); err != nil {
		t.Fatal(err)
	}
	moved := *asRead
	moved.Role = "coordinator"
	if err := f.store.UpdateMember(ctx, *asRead, moved, audit.New(orgID, ada, audit.MemberUpdated, "member", kari, f.clock.Now())); err == nil {
		t.Fatal("a change decided before the phone was added went through")
	}
	// The raw write above bypassed the entries: undo it.
	if _, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &f.table, Key: memberKey,
		UpdateExpression: aws.String("REMOVE phone")}); err != nil {
		t.Fatal(err)
	}

	ola, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "ola@example.no", FirstName: "Ola", Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	invKey := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + orgID}, "SK": &types.AttributeValueMemberS{Value: "INVITE#" + ola.ID}}
	if _, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &f.table, Key: invKey,
		UpdateExpression: aws.String("REMOVE deliveryAttempts")}); err != nil {
		t.Fatal(err)
	}
	sending := f.get(t, orgID, ola.ID)
	// A change lands while the email is out; then its outcome is recorded.
	changed := sending
	changed.Phone = "+4798765432"
	if err := f.store.UpdatePendingInvitation(ctx, sending, changed, audit.New(orgID, ada, audit.InvitationUpdated, "invitation", ola.ID, f.clock.Now())); err != nil {
		t.Fatalf("an invitation stored without deliveryAttempts: %v", err)
	}
	sending.DeliveryStatus, sending.DeliveryAttempts = "failed", 1
	if err := f.store.RecordDelivery(ctx, sending); err != nil {
		t.Fatal(err)
	}
	f.indexMatches(t, orgID, "after a delivery recorded from the sender's copy")
}
