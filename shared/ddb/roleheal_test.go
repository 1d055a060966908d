package ddb_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/ddb"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/org"
	"onboarding/shared/phone"
)

// dropRoleCounters deletes every role holder counter: the table as an
// organisation written before counters existed left it.
func (f fixture) dropRoleCounters(t *testing.T) {
	t.Helper()
	client := testenv.DynamoDBClient()
	for _, it := range f.scan(t) {
		if sk, ok := it["SK"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(sk.Value, "ROLE#") {
			if _, err := client.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(f.table),
				Key: map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]}}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// pendingInvitation is an invitation of role written straight to the store.
func (f fixture) pendingInvitation(orgID, adminID, email, role string) (invite.Invitation, audit.Entry) {
	now := f.clock.Now()
	inv := invite.Invitation{ID: invite.NewSortableID(now), OrgID: orgID, Email: email, Role: role, Units: []string{},
		Status: invite.Pending, TokenHash: invite.NewID(), CreatedAt: now, ExpiresAt: now.Add(time.Hour), InvitedBy: adminID}
	return inv, audit.New(orgID, adminID, audit.InvitationCreated, "invitation", inv.ID, now)
}

// An organisation whose counters are missing (written before they existed,
// `make backfill` not run) accepts an invitation, a roster batch and a role
// change: each write counts the roles it touches on first use, and the
// counts end exact. A role not in the table still gains no holder.
func TestRoleCountersHealThemselves(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	members := &membership.Service{Store: f.store, Monitor: f.store, Phones: phone.Normalize, Now: f.clock.Now}

	// Reporter leaves the table (its counter with it).
	var table access.Roles
	for _, r := range access.DefaultRoles() {
		if r.Key == access.Reporter {
			continue
		}
		r.MayInvite = slicesWithout(r.MayInvite, access.Reporter)
		table = append(table, r)
	}
	if _, err := (&org.RoleService{Store: f.store, Now: f.clock.Now}).PutRoles(ctx, adminID, orgID, org.RoleTable{Version: 0, Roles: table}); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"kari@example.no", "ola@example.no"} {
		if _, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: email, Role: access.Member}); err != nil {
			t.Fatal(err)
		}
	}
	kari, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, "kari@example.no"), FirstName: "Kari", LastName: "N",
		Password: "fjord and mountain", AcceptTerms: true, TermsVersion: "2026-01"})
	if err != nil {
		t.Fatal(err)
	}
	f.dropRoleCounters(t)

	// Accepting moves ola from pending to member: "member" is counted first
	// (kari, and ola's invitation), then the move applies.
	if _, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, "ola@example.no"), FirstName: "Ola", LastName: "N",
		Password: "fjord and mountain", AcceptTerms: true, TermsVersion: "2026-01"}); err != nil {
		t.Fatalf("accept in an organisation without counters: %v", err)
	}
	if h := holdersOf(t, f.store, orgID, access.Member); h != (ddb.RoleInUse{Role: access.Member, Members: 2}) {
		t.Fatalf("member holders after the accept %+v", h)
	}

	// A roster batch of two coordinators and a member.
	var entries []invite.RosterEntry
	for _, r := range []struct{ email, role string }{{"a@example.no", access.Coordinator}, {"b@example.no", access.Coordinator}, {"c@example.no", access.Member}} {
		entries = append(entries, invite.RosterEntry{Request: invite.Request{Email: r.email, Role: r.role}})
	}
	_, errs, err := f.svc.InviteNewFromRoster(ctx, adminID, orgID, entries)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("roster row %d: %v", i, err)
		}
	}

	// Kari moves from member to the admin role, whose counter is missing
	// too (the admin's own).
	admin := access.Owner
	if _, err := members.Update(ctx, adminID, orgID, kari.UserID, membership.Change{Role: &admin}); err != nil {
		t.Fatalf("role change in an organisation without counters: %v", err)
	}

	hs, err := f.store.RoleHolders(ctx, orgID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ddb.RoleInUse{
		access.Owner:       {Role: access.Owner, Members: 2},
		access.Member:      {Role: access.Member, Members: 1, Invitations: 1},
		access.Coordinator: {Role: access.Coordinator, Invitations: 2},
	}
	if len(hs) != len(want) {
		t.Fatalf("counters %+v, want %+v", hs, want)
	}
	for k, w := range want {
		if hs[k] != w {
			t.Fatalf("%s: %+v, want %+v", k, hs[k], w)
		}
	}

	// Reporter is not in the table: the write fails as before and no
	// counter comes into being.
	inv, e := f.pendingInvitation(orgID, adminID, "per@example.no", access.Reporter)
	err = f.store.CreateInvitation(ctx, inv, e)
	if fe, ok := fault.As(err); !ok || fe.Code != fault.Conflict || fe.Extra["role"] != access.Reporter {
		t.Fatalf("invite into a role not in the table: %v", err)
	}
	if hs, _ := f.store.RoleHolders(ctx, orgID); len(hs) != len(want) {
		t.Fatalf("a counter for a deleted role: %+v", hs)
	}
	if f.tableHolds(t, inv.ID) {
		t.Fatal("the invitation into a deleted role was written")
	}

	// The table change that deletes a role whose counter is missing counts
	// it too, and then refuses it with the counts, as always.
	f.dropRoleCounters(t)
	var keep access.Roles
	for _, r := range table {
		if r.Key != access.Member {
			r.MayInvite = slicesWithout(r.MayInvite, access.Member)
			keep = append(keep, r)
		}
	}
	_, err = (&org.RoleService{Store: f.store, Now: f.clock.Now}).PutRoles(ctx, adminID, orgID, org.RoleTable{Version: 1, Roles: keep})
	fe, ok := fault.As(err)
	inUse, _ := fe.Extra["inUse"].([]ddb.RoleInUse)
	if !ok || len(inUse) != 1 || inUse[0] != want[access.Member] {
		t.Fatalf("delete a held role without its counter: %v %+v", err, fe.Extra)
	}
}

func slicesWithout(s []string, drop string) []string {
	out := []string{}
	for _, v := range s {
		if v != drop {
			out = append(out, v)
		}
	}
	return out
}

// rendezvous holds the store's counter puts until n have arrived, so that
// n writes create the same counter at once.
type rendezvous struct {
	ddb.Client
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
	created int
	refused int
}

func (r *rendezvous) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	sk, _ := in.Item["SK"].(*types.AttributeValueMemberS)
	if sk == nil || !strings.HasPrefix(sk.Value, "ROLE#") {
		return r.Client.PutItem(ctx, in, o...)
	}
	r.mu.Lock()
	r.arrived++
	if r.arrived == r.n {
		close(r.all)
	}
	r.mu.Unlock()
	select {
	case <-r.all:
	case <-time.After(10 * time.Second):
	}
	out, err := r.Client.PutItem(ctx, in, o...)
	var ccf *types.ConditionalCheckFailedException
	r.mu.Lock()
	switch {
	case err == nil:
		r.created++
	case errors.As(err, &ccf):
		r.refused++
	}
	r.mu.Unlock()
	return out, err
}

// Two first writes at once both count the role, one creates its counter,
// the other finds it there; both then go through and the count is exact.
func TestRacingFirstWritesCreateOneCounter(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "ada@example.no")
	if _, err := f.svc.Invite(ctx, adminID, orgID, invite.Request{Email: "kari@example.no", Role: access.Member}); err != nil {
		t.Fatal(err)
	}
	f.dropRoleCounters(t)

	r := &rendezvous{Client: testenv.DynamoDBClient(), n: 2, all: make(chan struct{})}
	store := ddb.New(r, f.table, f.clock.Now)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, email := range []string{"ola@example.no", "per@example.no"} {
		inv, e := f.pendingInvitation(orgID, adminID, email, access.Member)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = store.CreateInvitation(ctx, inv, e)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if r.created != 1 || r.refused != 1 {
		t.Fatalf("counter puts: %d created, %d refused; want 1 and 1", r.created, r.refused)
	}
	if h := holdersOf(t, f.store, orgID, access.Member); h != (ddb.RoleInUse{Role: access.Member, Invitations: 3}) {
		t.Fatalf("member holders %+v", h)
	}
}
