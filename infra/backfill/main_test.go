package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/ddb"
)

// failingAfter fails every Scan after the first n, as a lost connection
// or an expired session would.
type failingAfter struct {
	*dynamodb.Client
	n, scans atomic.Int32
}

func (c *failingAfter) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	if c.scans.Add(1) > c.n.Load() {
		return nil, errors.New("connection lost")
	}
	return c.Client.Scan(ctx, in, opts...)
}

// TestBackfillResumesFromItsCheckpoint: a run that fails part way leaves a
// checkpoint; the run resumed from it updates the rest, and the two runs
// together update each old invitation once.
func TestBackfillResumesFromItsCheckpoint(t *testing.T) {
	client, table := testenv.Table(t)
	ctx := context.Background()
	const old, other = 60, 40 // invitations without InviteePK; other items
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	for i := range old + other {
		it := map[string]types.AttributeValue{"PK": s(fmt.Sprintf("ORG#o%d", i%7)), "SK": s(fmt.Sprintf("INVITE#i%03d", i)),
			"type": s("invitation"), "email": s(fmt.Sprintf("p%d@example.no", i))}
		if i >= old {
			it["SK"], it["type"] = s(fmt.Sprintf("MEMBER#u%03d", i)), s("member")
		}
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "cp.json")

	broken := &failingAfter{Client: client}
	broken.n.Store(5)
	b := ddb.NewBackfiller(broken, table)
	b.PageSize = 7
	first := newRun(b, newCheckpoint(table, 3), path, 1<<30)
	if err := first.all(ctx); err == nil || first.cp.Counts.Updated == 0 || first.cp.Counts.Updated == old {
		t.Fatalf("the broken run: %v, %s; want it to fail part way", err, first.cp.Counts)
	}

	cp, err := loadCheckpoint(path, table)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Counts != first.cp.Counts {
		t.Errorf("the file holds %s, the run did %s", cp.Counts, first.cp.Counts)
	}
	b = ddb.NewBackfiller(client, table)
	b.PageSize = 7
	second := newRun(b, cp, path, 1<<30)
	if err := second.all(ctx); err != nil {
		t.Fatal(err)
	}
	want := counts{Scanned: old + other, Missing: old, Updated: old, Done: 3, Of: 3}
	if c := second.cp.Counts; c != want {
		t.Errorf("after the resumed run: %s; want %s", c, want)
	}
	for i := range old {
		res, err := client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String(ddb.IndexInvitee),
			KeyConditionExpression:    aws.String("InviteePK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(fmt.Sprintf("INVITEE#p%d@example.no", i))}})
		if err != nil || len(res.Items) != 1 {
			t.Fatalf("invitation %d in the index: %d, %v", i, len(res.Items), err)
		}
	}
}
