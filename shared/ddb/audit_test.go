package ddb_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/org"
)

func TestEveryChangeIsAudited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	orgs := &org.Service{Store: f.store, Now: f.clock.Now}
	members := &membership.Service{Store: f.store, Now: f.clock.Now}

	unit := f.unit(t, orgID, ada, "North")
	if _, err := orgs.RenameUnit(ctx, ada, orgID, unit, "North Clinic"); err != nil {
		t.Fatal(err)
	}
	spare := f.unit(t, orgID, ada, "Spare")
	if err := orgs.DeleteUnit(ctx, ada, orgID, spare); err != nil {
		t.Fatal(err)
	}
	if _, err := orgs.UpdateSettings(ctx, ada, orgID, org.SettingsChange{InvitationLifetimeDays: intp(14)}); err != nil {
		t.Fatal(err)
	}
	kari := f.join(t, ada, orgID, "kari@example.no", "member", unit)
	if _, err := members.Update(ctx, ada, orgID, kari, membership.Change{Role: strp("reporter")}); err != nil {
		t.Fatal(err)
	}
	inv, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "olga@example.no", Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Resend(ctx, ada, orgID, inv.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Remove(ctx, ada, orgID, inv.ID); err != nil { // revoke
		t.Fatal(err)
	}
	if _, err := f.svc.Remove(ctx, ada, orgID, inv.ID); err != nil { // delete
		t.Fatal(err)
	}
	if err := members.Remove(ctx, ada, orgID, kari); err != nil {
		t.Fatal(err)
	}

	var entries []audit.Entry
	cursor := ""
	for {
		page, err := orgs.AuditTrail(ctx, ada, orgID, 4, cursor)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, page.Items...)
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	count := map[string]int{}
	for _, e := range entries {
		count[e.Action]++
		if e.ActorID == "" || e.TargetID == "" || e.At.IsZero() {
			t.Errorf("incomplete entry %+v", e)
		}
	}
	want := map[string]int{
		audit.InvitationCreated: 3, audit.InvitationAccepted: 2, audit.InvitationResent: 1, audit.InvitationRevoked: 1,
		audit.InvitationDeleted: 1, audit.MemberUpdated: 1, audit.MemberRemoved: 1, audit.UnitCreated: 2,
		audit.UnitRenamed: 1, audit.UnitDeleted: 1, audit.SettingsUpdated: 1,
	}
	for action, n := range want {
		if count[action] != n {
			t.Errorf("%s recorded %d times, want %d (all: %v)", action, count[action], n, count)
		}
	}
	for _, e := range entries {
		if e.Action == audit.MemberUpdated && (e.Before["role"] != "member" || e.After["role"] != "reporter") {
			t.Errorf("member change before/after: %+v", e)
		}
	}

	// Entries carry a TTL, and nothing secret.
	client := testenv.DynamoDBClient()
	raw, err := f.rawAudit(ctx, client, orgID)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range raw {
		ttl, ok := it["ttl"].(*types.AttributeValueMemberN)
		if !ok || ttl.Value == "" {
			t.Fatalf("audit item without TTL: %v", it)
		}
	}
	all, _ := json.Marshal(entries)
	if lower := strings.ToLower(string(all)); strings.Contains(lower, "tokenhash") || strings.Contains(lower, "password") {
		t.Fatalf("secret in the audit trail: %s", all)
	}

	// Only organisation-wide admins read it.
	rex := f.join(t, ada, orgID, "rex@example.no", "reporter")
	if _, err := orgs.AuditTrail(ctx, rex, orgID, 10, ""); fault.CodeOf(err) != fault.Forbidden {
		t.Fatalf("reporter reads audit: %v", err)
	}
}

func (f fixture) rawAudit(ctx context.Context, client *dynamodb.Client, orgID string) ([]map[string]types.AttributeValue, error) {
	res, err := client.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(f.table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :a)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "ORG#" + orgID}, ":a": &types.AttributeValueMemberS{Value: "AUDIT#"},
		},
	})
	if err != nil {
		return nil, err
	}
	return res.Items, nil
}
