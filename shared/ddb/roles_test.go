package ddb_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/access"
	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/ddb"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/org"
	"onboarding/shared/phone"
)

// loneWorkerRoles is the lone-worker product's table, keeping the default
// "member" role so that the fixture's members keep theirs.
func loneWorkerRoles(keep ...access.Role) access.Roles {
	invites := []string{"admin", "responder", "lone-worker"}
	for _, r := range keep {
		invites = append(invites, r.Key)
	}
	rs := access.Roles{
		access.OwnerRole(map[string]string{"en": "Admin", "nb": "Administrator"}, invites, false),
		{Key: "responder", Names: map[string]string{"en": "Responder", "nb": "Vaktansvarlig"}, MayInvite: []string{"lone-worker"}, ReadLists: true},
		{Key: "lone-worker", Names: map[string]string{"en": "Lone worker", "nb": "Alenearbeider"}, MayInvite: []string{}, Monitored: true},
	}
	return append(rs, keep...)
}

func holdersOf(t *testing.T, store *ddb.Store, orgID, role string) ddb.RoleInUse {
	t.Helper()
	hs, err := store.RoleHolders(context.Background(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	return hs[role]
}

// The holder counters follow every invitation and membership, and a role
// with holders cannot be deleted: the refusal names the counts.
func TestRoleTableAgainstDynamoDBLocal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	roles := &org.RoleService{Store: f.store, Now: f.clock.Now}
	members := &membership.Service{Store: f.store, Monitor: f.store, Phones: phone.Normalize, Now: f.clock.Now}

	if h := holdersOf(t, f.store, orgID, access.Owner); h.Members != 1 || h.Invitations != 0 {
		t.Fatalf("admin holders after provisioning %+v", h)
	}
	table, err := roles.Roles(ctx, adminID, orgID)
	if err != nil || table.Version != 0 || len(table.Roles) != 4 {
		t.Fatalf("roles %+v %v", table, err)
	}
	defaults := table.Roles
	member, _ := defaults.Find(access.Member)

	// One member of role "member" and one pending invitation of it.
	if _, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "kari@example.no", Role: "Medlem"}); err != nil {
		t.Fatal(err)
	}
	j, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, "kari@example.no"), FirstName: "Kari", LastName: "N",
		Password: "fjord and mountain", AcceptTerms: true, TermsVersion: "2026-01"})
	if err != nil || j.Role != access.Member {
		t.Fatalf("accept %+v %v", j, err)
	}
	pending, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "ola@example.no", Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	if h := holdersOf(t, f.store, orgID, access.Member); h.Members != 1 || h.Invitations != 1 {
		t.Fatalf("member holders %+v", h)
	}

	// Removing "member" is refused, naming the counts; nothing changes.
	_, err = roles.PutRoles(ctx, adminID, orgID, org.RoleTable{Version: 0, Roles: loneWorkerRoles()})
	e, ok := fault.As(err)
	if !ok || e.Code != fault.Conflict {
		t.Fatalf("delete a role in use: %v", err)
	}
	inUse, _ := e.Extra["inUse"].([]ddb.RoleInUse)
	if len(inUse) != 1 || inUse[0] != (ddb.RoleInUse{Role: access.Member, Members: 1, Invitations: 1}) {
		t.Fatalf("inUse %+v (%s)", e.Extra, e.Message)
	}

	// Keeping it, the change goes through: coordinator and reporter (held by
	// no one) go, responder and lone-worker come.
	stored, err := roles.PutRoles(ctx, adminID, orgID, org.RoleTable{Version: 0, Roles: loneWorkerRoles(member)})
	if err != nil || stored.Version != 1 || len(stored.Roles) != 4 {
		t.Fatalf("put roles %+v %v", stored, err)
	}
	hs, err := f.store.RoleHolders(ctx, orgID)
	if err != nil || len(hs) != 4 || hs["lone-worker"] != (ddb.RoleInUse{Role: "lone-worker"}) {
		t.Fatalf("holders after the change %+v %v", hs, err)
	}
	// A change made from the old version is refused.
	if _, err := roles.PutRoles(ctx, adminID, orgID, org.RoleTable{Version: 0, Roles: loneWorkerRoles(member)}); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("stale version: %v", err)
	}

	// Moving the member (by display name) and ending the invitation empty
	// "member"; then it may go.
	lone := "Alenearbeider"
	if _, err := members.Update(ctx, adminID, orgID, j.UserID, membership.Change{Role: &lone}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Remove(ctx, adminID, orgID, pending.ID); err != nil {
		t.Fatal(err)
	}
	if h := holdersOf(t, f.store, orgID, "lone-worker"); h.Members != 1 {
		t.Fatalf("lone-worker holders %+v", h)
	}
	if h := holdersOf(t, f.store, orgID, access.Member); h.Members != 0 || h.Invitations != 0 {
		t.Fatalf("member holders %+v", h)
	}
	stored, err = roles.PutRoles(ctx, adminID, orgID, org.RoleTable{Version: 1, Roles: loneWorkerRoles()})
	if err != nil || stored.Version != 2 {
		t.Fatalf("delete an unused role %+v %v", stored, err)
	}

	// A role deleted meanwhile gains no holder: the write that would give it
	// one fails on its missing counter.
	now := f.clock.Now()
	inv := invite.Invitation{ID: invite.NewSortableID(now), OrgID: orgID, Email: "per@example.no", Role: access.Member, Units: []string{},
		Status: invite.Pending, TokenHash: invite.NewID(), CreatedAt: now, ExpiresAt: now.Add(time.Hour), InvitedBy: adminID}
	err = f.store.CreateInvitation(ctx, inv, audit.New(orgID, adminID, audit.InvitationCreated, "invitation", inv.ID, now))
	if e, ok := fault.As(err); !ok || e.Code != fault.Conflict || e.Extra["role"] != access.Member {
		t.Fatalf("invite into a deleted role: %v", err)
	}
	m, err := f.store.Member(ctx, orgID, j.UserID)
	if err != nil {
		t.Fatal(err)
	}
	updated := *m
	updated.Role = access.Member
	if err := f.store.UpdateMember(ctx, *m, updated, audit.New(orgID, adminID, audit.MemberUpdated, "member", m.UserID, f.clock.Now())); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("move into a deleted role: %v", err)
	}

	// The owner's names change; the last-admin guard still holds.
	renamed := loneWorkerRoles()
	renamed[0].Names = map[string]string{"en": "Owner", "nb": "Eier"}
	if _, err := roles.PutRoles(ctx, adminID, orgID, org.RoleTable{Version: 2, Roles: renamed}); err != nil {
		t.Fatal(err)
	}
	resp := "responder"
	if _, err := members.Update(ctx, adminID, orgID, adminID, membership.Change{Role: &resp}); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("demote the last admin: %v", err)
	}
}

// capacityCounter counts the requests of a store and the items and write
// capacity of its transactions.
type capacityCounter struct {
	ddb.Client
	requests, items atomic.Int64
	wcu             atomic.Int64 // thousandths
}

func (c *capacityCounter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.requests.Add(1)
	c.items.Add(int64(len(in.TransactItems)))
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.Client.TransactWriteItems(ctx, in, o...)
	if err == nil {
		for _, cc := range out.ConsumedCapacity {
			c.wcu.Add(int64(aws.ToFloat64(cc.CapacityUnits) * 1000))
		}
	}
	return out, err
}

func (c *capacityCounter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.requests.Add(1)
	return c.Client.BatchGetItem(ctx, in, o...)
}

func (c *capacityCounter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.requests.Add(1)
	return c.Client.GetItem(ctx, in, o...)
}

func (c *capacityCounter) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.requests.Add(1)
	return c.Client.Query(ctx, in, o...)
}

// Changing a role's abilities costs the same with 1,000 members as with
// one: the members hold the key, and the table is one item.
func TestChangingARoleCostsTheSameWhateverTheMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("joins 1,000 members")
	}
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	measure := func(version int, readLists bool) (requests, items int64, wcu float64) {
		counter := &capacityCounter{Client: testenv.DynamoDBClient()}
		roles := &org.RoleService{Store: ddb.New(counter, f.table, f.clock.Now), Now: f.clock.Now}
		table := access.DefaultRoles()
		table[2].ReadLists = readLists // reporter
		if _, err := roles.PutRoles(ctx, adminID, orgID, org.RoleTable{Version: version, Roles: table}); err != nil {
			t.Fatal(err)
		}
		return counter.requests.Load(), counter.items.Load(), float64(counter.wcu.Load()) / 1000
	}
	r1, i1, w1 := measure(0, false)

	const n = 1000
	var entries []invite.RosterEntry
	for i := range n {
		entries = append(entries, invite.RosterEntry{Request: invite.Request{Email: fmt.Sprintf("w%04d@example.no", i), Role: access.Member}})
	}
	invs, errs, err := f.svc.InviteNewFromRoster(ctx, adminID, orgID, entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, inv := range invs {
		userID := invite.NewID()
		now := f.clock.Now()
		if err := f.store.Accept(ctx, invite.Acceptance{Invitation: inv, NewAccount: true, At: now,
			Audit:   audit.New(orgID, userID, audit.InvitationAccepted, "invitation", inv.ID, now),
			Account: account.Account{UserID: userID, Email: inv.Email, FirstName: "F", LastName: "L", PasswordHash: "x", CreatedAt: now},
			Member:  org.Member{UserID: userID, OrgID: orgID, Email: inv.Email, Role: inv.Role, JoinedAt: now},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if h := holdersOf(t, f.store, orgID, access.Member); h.Members != n || h.Invitations != 0 {
		t.Fatalf("member holders %+v", h)
	}
	rN, iN, wN := measure(1, true)
	t.Logf("change a role's abilities: 1 member: %d requests, %d items written, %.1f WCU; %d members: %d requests, %d items written, %.1f WCU",
		r1, i1, w1, n+1, rN, iN, wN)
	if rN != r1 || iN != i1 || wN != w1 {
		t.Fatalf("the cost grew with the members: %d/%d/%.1f then %d/%d/%.1f", r1, i1, w1, rN, iN, wN)
	}
}

// The backfill counts the roles of an organisation from before holder
// counters (all at once, where writes would count each on first use: see
// TestRoleCountersHealThemselves); a second run writes nothing.
func TestBackfillRoleCounters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	for _, email := range []string{"kari@example.no", "ola@example.no"} {
		if _, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: email, Role: "member"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, "kari@example.no"), FirstName: "Kari", LastName: "N",
		Password: "fjord and mountain", AcceptTerms: true, TermsVersion: "2026-01"}); err != nil {
		t.Fatal(err)
	}
	f.dropRoleCounters(t)
	b := ddb.NewBackfiller(testenv.DynamoDBClient(), f.table)
	c, err := b.RoleCounters(ctx)
	if err != nil || c.Organisations != 1 || c.Created != 4 || c.Present != 0 {
		t.Fatalf("first run %+v %v", c, err)
	}
	hs, err := f.store.RoleHolders(ctx, orgID)
	if err != nil || hs[access.Owner].Members != 1 || hs[access.Member] != (ddb.RoleInUse{Role: access.Member, Members: 1, Invitations: 1}) ||
		hs[access.Reporter] != (ddb.RoleInUse{Role: access.Reporter}) {
		t.Fatalf("counted %+v %v", hs, err)
	}
	if c, err := b.RoleCounters(ctx); err != nil || c.Created != 0 || c.Present != 4 {
		t.Fatalf("second run %+v %v", c, err)
	}
	if _, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "per@example.no", Role: "member"}); err != nil {
		t.Fatalf("invite after the backfill: %v", err)
	}
}
