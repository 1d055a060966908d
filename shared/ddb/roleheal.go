package ddb

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/access"
	"onboarding/shared/org"
)

// roleCounter is a role holder counter a cancelled transaction found
// missing.
type roleCounter struct{ orgID, role string }

// missingCounters are the role counters whose absence cancelled t: an
// update of one (its condition is only that it exists), or a delete of one
// that returned no old item. A put that failed found one there.
func (t txn) missingCounters(err error) []roleCounter {
	var out []roleCounter
	for _, f := range t.conditionFailures(err) {
		if !strings.HasPrefix(f.name, roleItem("")) {
			continue
		}
		var k map[string]types.AttributeValue
		switch it := t.items[f.index]; {
		case it.Update != nil:
			k = it.Update.Key
		case it.Delete != nil && len(f.reason.Item) == 0:
			k = it.Delete.Key
		}
		pk, _ := k[attrPK].(*types.AttributeValueMemberS)
		sk, _ := k[attrSK].(*types.AttributeValueMemberS)
		if pk == nil || sk == nil {
			continue
		}
		orgID, okOrg := strings.CutPrefix(pk.Value, orgPK(""))
		role, okRole := strings.CutPrefix(sk.Value, roleSK(""))
		if okOrg && okRole {
			out = append(out, roleCounter{orgID, role})
		}
	}
	return out
}

// healCounters creates the missing counters of roles that are in their
// organisation's table, counting their holders: an organisation written
// before counters existed (`make backfill` does all of them at once). The
// count is exact: while a counter is missing, every write that would give
// or take its role a holder fails on it, and so does the table change that
// would delete the role. Reports false, creating nothing, when a role is not
// in the table: it was deleted, and the write must fail (roleGone).
func (s *Store) healCounters(ctx context.Context, missing []roleCounter) (bool, error) {
	byOrg := map[string][]string{}
	var orgs []string
	for _, c := range missing {
		if _, seen := byOrg[c.orgID]; !seen {
			orgs = append(orgs, c.orgID)
		}
		byOrg[c.orgID] = append(byOrg[c.orgID], c.role)
	}
	for _, orgID := range orgs {
		var o org.Organisation
		found, err := s.get(ctx, key{orgPK(orgID), skMeta}, &o)
		if err != nil || !found {
			return false, err
		}
		table := access.Upgrade(o.Roles)
		for _, r := range byOrg[orgID] {
			if _, ok := table.Find(r); !ok {
				return false, nil
			}
		}
		counts, err := countHolders(ctx, s.client, s.table, orgID, byOrg[orgID])
		if err != nil {
			return false, err
		}
		for _, r := range byOrg[orgID] {
			n := counts[r]
			created, err := putCounter(ctx, s.client, s.table, orgID, n)
			if err != nil {
				return false, err
			}
			if created {
				slog.InfoContext(ctx, "role holder counter created on first use", "org", orgID, "role", r,
					"members", n.Members, "invitations", n.Invitations)
			}
		}
	}
	return true, nil
}
