package ddb_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/org"
	"onboarding/shared/quota"
)

func TestRateLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.svc.Quotas = f.store
	orgID, ada := f.provisionAndJoin(t, "ada@example.no")
	orgs := &org.Service{Store: f.store, Now: f.clock.Now}
	if _, err := orgs.UpdateSettings(ctx, ada, orgID, org.SettingsChange{
		RateLimits: &org.RateLimits{InvitationsPerHour: 3, EmailsPerRecipientPerDay: 2}}); err != nil {
		t.Fatal(err)
	}
	// The recipient limit: the invitation and one resend, then 429.
	inv, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "r@example.no", Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Resend(ctx, ada, orgID, inv.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Resend(ctx, ada, orgID, inv.ID)
	if e, ok := fault.As(err); !ok || e.Code != fault.TooMany || e.RetryAfter <= 0 || e.RetryAfter > 24*time.Hour {
		t.Fatalf("third email to one person: %v", err)
	}
	// The organisation limit: 3 an hour (the resend above counted).
	if _, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "a@example.no", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "b@example.no", Role: "member"})
	if e, ok := fault.As(err); !ok || e.Code != fault.TooMany || e.RetryAfter > time.Hour {
		t.Fatalf("fourth invitation in an hour: %v", err)
	}
	// The recipient limit rolls: 24 hours after the first email, one more may go.
	f.clock.Add(24*time.Hour - time.Minute)
	if _, err := f.svc.Resend(ctx, ada, orgID, inv.ID); fault.CodeOf(err) != fault.TooMany {
		t.Fatalf("just inside 24 hours: %v", err)
	}
	f.clock.Add(2 * time.Minute)
	if _, err := f.svc.Resend(ctx, ada, orgID, inv.ID); err != nil {
		t.Fatalf("24 hours after the first email: %v", err)
	}
	// A refused invitation uses no quota: a conflict gives its use back.
	f.clock.Add(time.Hour)
	if _, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: "a@example.no", Role: "member"}); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("duplicate: %v", err)
	}
	for i := 0; i < 3; i++ {
		if _, err := f.svc.Invite(ctx, ada, orgID, invite.Request{Email: fmt.Sprintf("n%d@example.no", i), Role: "member"}); err != nil {
			t.Fatalf("next hour, invitation %d: %v", i, err)
		}
	}
}

// Every write of a rate counter leaves it with a TTL, so counters keyed by
// a recipient's address never outlive their window by long: made by Take,
// after Give, made and updated by TakeSliding, and after GiveSliding.
func TestQuotaItemsKeepTheirTTL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	ttlOf := func(pk, sk string) int64 {
		t.Helper()
		raw, err := testenv.DynamoDBClient().GetItem(ctx, &dynamodb.GetItemInput{TableName: &f.table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}})
		if err != nil {
			t.Fatal(err)
		}
		if raw.Item == nil {
			return -1
		}
		n, ok := raw.Item["ttl"].(*types.AttributeValueMemberN)
		if !ok {
			t.Fatalf("%s/%s has no ttl: %v", pk, sk, raw.Item)
		}
		v, _ := strconv.ParseInt(n.Value, 10, 64)
		if v <= now.Unix() {
			t.Fatalf("%s/%s ttl %d is not in the future", pk, sk, v)
		}
		return v
	}
	fixed := quota.Name{Kind: quota.OrgInvitations, Org: "o1"}
	sliding := quota.Name{Kind: quota.OrgRecipient, Org: "o1", Subject: "kari@example.no"}
	// The keys stored before quotas were named by kind.
	const fixedPK, slidingPK = "QUOTA#org#o1#invitations", "QUOTA#org#o1#recipient#kari@example.no"
	window := now.Truncate(time.Hour).Unix()
	windowSK := "WINDOW#" + strconv.FormatInt(window, 10)

	if _, err := f.store.Take(ctx, fixed, 3, time.Hour, now); err != nil {
		t.Fatal(err)
	}
	ttlOf(fixedPK, windowSK)
	if err := f.store.Give(ctx, fixed, time.Hour, now); err != nil {
		t.Fatal(err)
	}
	ttlOf(fixedPK, windowSK)
	// Giving back in a window nothing was taken in makes no item.
	if err := f.store.Give(ctx, fixed, time.Hour, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ttlOf(fixedPK, "WINDOW#"+strconv.FormatInt(window+2*3600, 10)) != -1 {
		t.Fatal("Give made a counter")
	}

	if _, err := f.store.TakeSliding(ctx, sliding, 3, 24*time.Hour, now); err != nil {
		t.Fatal(err)
	}
	ttlOf(slidingPK, "SLIDING")
	later := now.Add(time.Minute)
	if _, err := f.store.TakeSliding(ctx, sliding, 3, 24*time.Hour, later); err != nil {
		t.Fatal(err)
	}
	ttlOf(slidingPK, "SLIDING")
	if err := f.store.GiveSliding(ctx, sliding, later); err != nil {
		t.Fatal(err)
	}
	ttlOf(slidingPK, "SLIDING")
	if err := f.store.GiveSliding(ctx, sliding, now); err != nil {
		t.Fatal(err)
	}
	ttlOf(slidingPK, "SLIDING")
}
