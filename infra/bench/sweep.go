package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/infra/local"
	"onboarding/shared/ddb"
	"onboarding/shared/invite"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

// sweep measures one run of the real sweep binary over a table of 100,000
// pending invitations of which 1,000 are due: items read (the target is at
// most 1.1 times the due count), DynamoDB requests, and the time per 1,000
// expirations.
func (b *bench) sweep() error {
	const pending, due = 100_000, 1_000
	fn := b.stack.Functions["SweepFunction"]
	invoke := func() (invite.SweepReport, time.Duration, error) {
		payload, _ := os.ReadFile("events/schedule-sweep.json")
		start := time.Now()
		res, err := fn.Invoke(context.Background(), payload)
		took := time.Since(start)
		var r invite.SweepReport
		if err == nil {
			err = json.Unmarshal(res, &r)
		}
		return r, took, err
	}
	// Steady state: the schedule has run before, so the checkpoint is set.
	if _, _, err := invoke(); err != nil {
		return fmt.Errorf("first sweep: %w", err)
	}

	var me struct {
		UserID string `json:"userId"`
	}
	if _, err := b.call("GET", "/me", b.admin, nil, &me); err != nil || me.UserID == "" {
		return fmt.Errorf("read the admin's id: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	invs := make([]invite.Invitation, 0, pending)
	for i := range pending {
		_, hash, _ := opaque.New()
		inv := invite.Invitation{
			ID: invite.NewSortableID(now), OrgID: b.orgID, OrgName: "Bench Org", Email: fmt.Sprintf("sweep-%06d-%s@example.no", i, b.run),
			FirstName: "P", LastName: fmt.Sprint(i), Language: "nb", Role: "member", Units: []string{}, Attributes: org.Attributes{},
			Status: invite.Pending, DeliveryStatus: invite.DeliverySent, InvitedBy: me.UserID, InviterName: "Bench Admin", TokenHash: hash,
		}
		if i < due { // expired over the last three days
			inv.ExpiresAt = now.Add(-time.Duration(i%3)*24*time.Hour - time.Hour)
		} else { // due in 4 to 30 days, reminders included
			inv.ExpiresAt = now.Add(time.Duration(4+i%27)*24*time.Hour + time.Duration(i%1440)*time.Minute)
		}
		inv.CreatedAt = inv.ExpiresAt.Add(-30 * 24 * time.Hour)
		r := inv.ExpiresAt.Add(-3 * 24 * time.Hour)
		inv.RemindAt = &r
		if i < due {
			inv.RemindedAt = &r
		}
		invs = append(invs, inv)
	}
	client := dynamodb.NewFromConfig(local.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(env("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000"))
	})
	store := ddb.New(client, b.table, time.Now)
	fmt.Fprintf(os.Stderr, "bench: loading %d pending invitations\n", pending)
	start := time.Now()
	// The due ones with their tokens and guards, which expiry deletes; the
	// others are never touched, only indexed.
	if err := store.LoadInvitations(context.Background(), client, invs[:due], true); err != nil {
		return err
	}
	if err := store.LoadInvitations(context.Background(), client, invs[due:], false); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: loaded in %s\n", time.Since(start).Round(time.Second))

	b.counter.take()
	r, took, err := invoke()
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	read := b.counter.itemsRead()
	ops, rcu, wcu := b.counter.take()
	if r.Expired != due || r.More {
		return fmt.Errorf("the sweep expired %d of %d (more: %v): %+v", r.Expired, due, r.More, r)
	}
	r2, took2, err := invoke()
	if err != nil {
		return err
	}
	read2 := b.counter.itemsRead()
	ops2, _, _ := b.counter.take()

	out("\n## Sweep: 100,000 pending invitations, 1,000 due\n\n")
	out("One run of the sweep binary under the runner (8 workers; DynamoDB Local through the counting proxy; the digest through the SES emulator):\n\n")
	out("| | first run | second run (nothing due) |\n|---|---|---|\n")
	out("| expired / digests sent | %d / %d | %d / %d |\n", r.Expired, r.Digests, r2.Expired, r2.Digests)
	out("| items read | %d (%.3fx the due count) | %d |\n", read, float64(read)/due, read2)
	out("| DynamoDB requests | %s | %s |\n", opsLine(ops), opsLine(ops2))
	out("| capacity | %.0f RCU, %.0f WCU | |\n", rcu, wcu)
	out("| wall time | %s (%s per 1,000 expirations) | %s |\n\n", took.Round(time.Millisecond),
		(took * 1000 / due).Round(time.Millisecond), took2.Round(time.Millisecond))
	return nil
}

// opsLine is "N total: Op n, Op n" with the operations sorted by name.
func opsLine(ops map[string]int) string {
	var names []string
	total := 0
	for op, n := range ops {
		names = append(names, fmt.Sprintf("%s %d", op, n))
		total += n
	}
	sort.Strings(names)
	return fmt.Sprintf("%d: %s", total, strings.Join(names, ", "))
}
