package ddb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/partner"
)

// A snapshot stored before snapshots were keyed by worker id (its key
// holds the email) is moved when read: the partner's next event continues
// its version, and once the worker is removed no item names them.
func TestLegacySnapshotIsMovedWhenRead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgID, adminID := f.provisionAndJoin(t, "admin@legacy.example")
	email := "kari@example.no"
	p := connectPartner(t, f, orgID, adminID, email)
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	if _, err := testenv.DynamoDBClient().PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: map[string]types.AttributeValue{
		"PK": s("ORG#" + orgID), "SK": s("PSTATE#vakt#" + email), "type": s("partnerSnapshot"),
		"orgId": s(orgID), "partnerId": s("vakt"), "email": s(email), "generation": s(generation(t, f, orgID)),
		"present": &types.AttributeValueMemberBOOL{Value: true}, "version": &types.AttributeValueMemberN{Value: "3"},
		"fields": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"name": s(`{"familyName":"Nordmann"}`)}},
	}}); err != nil {
		t.Fatal(err)
	}
	k := partner.SnapshotKey{PartnerID: "vakt", Email: email}
	got, err := f.store.Snapshots(ctx, orgID, []partner.SnapshotKey{k})
	if err != nil || got[k].Version != 3 || !got[k].Present || got[k].Email != email {
		t.Fatalf("read: %+v %v", got, err)
	}
	if again, err := f.store.Snapshots(ctx, orgID, []partner.SnapshotKey{k}); err != nil || again[k].Version != 3 {
		t.Fatalf("read again: %+v %v", again, err)
	}
	// She is no member: the partner is told she left, at version 4.
	p.notify(t, partner.WorkerRemoved)
	if v := p.mail.changes[len(p.mail.changes)-1].Events[0].Worker.Meta.Version; v != 4 {
		t.Errorf("the removal's version: %d", v)
	}
	if left := scanFor(t, f, email, "Nordmann"); len(left) > 0 {
		t.Errorf("left:\n%s", strings.Join(left, "\n"))
	}
	got, err = f.store.Snapshots(ctx, orgID, []partner.SnapshotKey{k})
	if err != nil || got[k].Version != 4 || got[k].Present {
		t.Fatalf("after the removal: %+v %v", got, err)
	}
}

// generation is partner vakt's generation.
func generation(t *testing.T, f fixture, orgID string) string {
	t.Helper()
	p, err := f.store.Partner(context.Background(), orgID, "vakt")
	if err != nil || p == nil {
		t.Fatalf("partner: %v %v", p, err)
	}
	return p.Generation
}
