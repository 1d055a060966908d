package ddb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/opaque"
)

// scan reads the whole table (a test may).
func (f fixture) scan(t *testing.T) []map[string]types.AttributeValue {
	t.Helper()
	res, err := testenv.DynamoDBClient().Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(f.table)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Items
}

// leaveItems returns the partition keys of the stored leave tokens.
func (f fixture) leaveItems(t *testing.T) []string {
	t.Helper()
	var keys []string
	for _, it := range f.scan(t) {
		if pk, ok := it["PK"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "LEAVE#") {
			keys = append(keys, pk.Value)
		}
	}
	return keys
}

// tableHolds reports whether any string attribute of any item contains s.
func (f fixture) tableHolds(t *testing.T, s string) bool {
	t.Helper()
	for _, it := range f.scan(t) {
		for _, v := range it {
			if str, ok := v.(*types.AttributeValueMemberS); ok && strings.Contains(str.Value, s) {
				return true
			}
		}
	}
	return false
}

// The "added" email's link ends that membership, once, within 30 days, as
// an admin's removal would; never the organisation's last admin, and never
// a later membership of the same person.
func TestLeaveLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgA, ada := f.provisionAndJoin(t, "ada@example.no")
	kari := f.join(t, ada, orgA, "kari@example.no", "member")
	orgB, bo := f.provisionAndJoin(t, "bo@example.no")
	north := f.unit(t, orgB, bo, "North")
	members := &membership.Service{Store: f.store, Now: f.clock.Now}

	add := func() string {
		t.Helper()
		if inv, err := f.svc.Invite(ctx, bo, orgB, invite.Request{Email: "kari@example.no", Role: "member", Units: []string{north}}); err != nil || inv.Status != invite.Accepted {
			t.Fatalf("add kari: %+v %v", inv, err)
		}
		return f.mail.leaveToken(t, "kari@example.no")
	}
	token := add()
	if f.tableHolds(t, token) || len(f.leaveItems(t)) != 1 || f.leaveItems(t)[0] != "LEAVE#"+opaque.Hash(token) {
		t.Fatalf("the token must be stored as its SHA-256 only: %v", f.leaveItems(t))
	}

	if _, err := f.svc.Leave(ctx, strings.Repeat("A", 43)); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("unknown token: %v", err)
	}
	left, err := f.svc.Leave(ctx, token)
	if err != nil || left.OrgID != orgB || left.OrgName != "Nordlys Care" {
		t.Fatalf("leave: %+v %v", left, err)
	}
	if m, _ := f.store.Member(ctx, orgB, kari); m != nil {
		t.Fatal("still a member of B")
	}
	if m, _ := f.store.Member(ctx, orgA, kari); m == nil {
		t.Fatal("leaving B ended the membership of A")
	}
	trail, _, _ := f.store.AuditTrail(ctx, orgB, 1, "")
	if len(trail) != 1 || trail[0].Action != audit.MemberRemoved || trail[0].ActorID != kari || trail[0].TargetID != kari {
		t.Fatalf("audit %+v", trail)
	}
	if _, err := f.svc.Leave(ctx, token); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("the token works twice: %v", err)
	}
	if len(f.leaveItems(t)) != 0 {
		t.Fatal("the used token is still stored")
	}

	// A link outlives its membership: an admin removes Kari and she is
	// added again. The earlier link does not end the later membership.
	old := add()
	if err := members.Remove(ctx, bo, orgB, kari); err != nil {
		t.Fatal(err)
	}
	latest := add()
	if _, err := f.svc.Leave(ctx, old); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("an earlier membership's link: %v", err)
	}
	// After 30 days the link has expired; the membership stays.
	f.clock.Add(invite.LeaveLifetime)
	if _, err := f.svc.Leave(ctx, latest); fault.CodeOf(err) != fault.Gone {
		t.Fatalf("an expired link: %v", err)
	}
	if m, _ := f.store.Member(ctx, orgB, kari); m == nil {
		t.Fatal("an expired link ended the membership")
	}

	// An account added as a new organisation's first admin may not leave it
	// adminless: 409, and the link stays for when another admin exists.
	if _, err := f.svc.Provision(ctx, invite.ProvisionRequest{Name: "Kari's Own", AdminEmail: "kari@example.no"}); err != nil {
		t.Fatal(err)
	}
	own := f.mail.leaveToken(t, "kari@example.no")
	for range 2 {
		if _, err := f.svc.Leave(ctx, own); fault.CodeOf(err) != fault.Conflict {
			t.Fatalf("the last org-wide admin leaves: %v", err)
		}
	}
}

// An "added" email that failed is sent again by the sweep with a new leave
// link; the one that never arrived is gone.
func TestLeaveLinkOfARetriedEmail(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgA, ada := f.provisionAndJoin(t, "ada@example.no")
	kari := f.join(t, ada, orgA, "kari@example.no", "member")
	orgB, bo := f.provisionAndJoin(t, "bo@example.no")

	f.mail.failAdded.Store(true)
	inv, err := f.svc.Invite(ctx, bo, orgB, invite.Request{Email: "kari@example.no", Role: "member"})
	if err != nil || inv.DeliveryStatus != invite.DeliveryFailed {
		t.Fatalf("%+v %v", inv, err)
	}
	failed := f.leaveItems(t)
	f.mail.failAdded.Store(false)
	f.clock.Add(5 * time.Minute)
	if r := f.sweep(t); r.Retried != 1 {
		t.Fatalf("sweep %+v", r)
	}
	token := f.mail.leaveToken(t, "kari@example.no")
	if now := f.leaveItems(t); len(failed) != 1 || len(now) != 1 || now[0] == failed[0] || now[0] != "LEAVE#"+opaque.Hash(token) {
		t.Fatalf("leave tokens before %v, after %v", failed, now)
	}
	if _, err := f.svc.Leave(ctx, token); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.store.Member(ctx, orgB, kari); m != nil {
		t.Fatal("still a member")
	}
}
