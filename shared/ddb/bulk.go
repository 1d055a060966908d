package ddb

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/invite"
	"onboarding/shared/org"
)

// BatchWriter is the part of the DynamoDB API a bulk load uses.
type BatchWriter interface {
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// LoadInvitations writes invitations as they are (with the pending guard and
// token lookups of each pending one when lookups is set), 25 items a request on a few connections
// and without conditions, audit entries or role holder counts. It is for seeding tables (tests,
// benchmarks, migrations), never for requests: the live paths write through
// conditional transactions. The sweep checkpoint moves back to the earliest
// due day loaded, so a sweep finds what is due in the past.
func (s *Store) LoadInvitations(ctx context.Context, w BatchWriter, invs []invite.Invitation, lookups bool) error {
	var reqs []types.WriteRequest
	var earliest time.Time
	for _, inv := range invs {
		if at, ok := inv.NextDue(); ok && (earliest.IsZero() || at.Before(earliest)) {
			earliest = at
		}
		it, err := invitationItem(inv)
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		entries, err := s.invitationEntries(nil, &inv)
		if err != nil {
			return err
		}
		reqs = append(reqs, putRequests(entries)...)
		if inv.Status != invite.Pending || !lookups {
			continue
		}
		guard, err := guardItem(inv)
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: guard}})
		for _, h := range []string{inv.TokenHash, inv.ReminderTokenHash} {
			if h == "" {
				continue
			}
			tok, err := tokenItem(h, inv)
			if err != nil {
				return err
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: tok}})
		}
	}
	if err := s.load(ctx, w, reqs); err != nil {
		return err
	}
	counts := map[[2]string]int{}
	for _, inv := range invs {
		if inv.Status == invite.Pending {
			counts[[2]string{inv.OrgID, inv.Role}]++
		}
	}
	if err := s.countLoaded(ctx, counts, "invitations"); err != nil {
		return err
	}
	if earliest.IsZero() {
		return nil
	}
	return s.rewindSweepCheckpoint(ctx, earliest)
}

// LoadMembers writes members as they are, with their search entries, as
// LoadInvitations does invitations (no admin count, unit joins, monitoring
// profiles or audit entries): for seeding tables (benchmarks), never for
// requests.
func (s *Store) LoadMembers(ctx context.Context, w BatchWriter, ms []org.Member) error {
	var reqs []types.WriteRequest
	for _, m := range ms {
		it, err := item(key{orgPK(m.OrgID), memberSK(m.UserID)}, typeMember, m, map[string]types.AttributeValue{
			attrGSI1PK: str(userPK(m.UserID)), attrGSI1SK: str(orgPK(m.OrgID)),
		})
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		entries, err := s.memberEntries(nil, &m)
		if err != nil {
			return err
		}
		reqs = append(reqs, putRequests(entries)...)
	}
	if err := s.load(ctx, w, reqs); err != nil {
		return err
	}
	counts := map[[2]string]int{}
	for _, m := range ms {
		counts[[2]string{m.OrgID, m.Role}]++
	}
	return s.countLoaded(ctx, counts, "members")
}

// countLoaded adds what a load wrote to the roles' holder counters
// (attribute "members" or "invitations"), so that a seeded organisation's
// roles in use cannot be deleted. A role without a counter is left
// without one: it is counted when a write first needs it.
func (s *Store) countLoaded(ctx context.Context, counts map[[2]string]int, attr string) error {
	for or, n := range counts {
		_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table,
			Key:                       key{orgPK(or[0]), roleSK(or[1])}.av(),
			UpdateExpression:          aws.String("ADD #n :n"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeNames:  map[string]string{"#n": attr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(int64(n))}})
		if err != nil && !isConditionFailed(err) {
			return fmt.Errorf("count the loaded holders of role %s: %w", or[1], err)
		}
	}
	return nil
}

// putRequests are the Puts among items as batch write requests.
func putRequests(items []types.TransactWriteItem) []types.WriteRequest {
	var out []types.WriteRequest
	for _, it := range items {
		if it.Put != nil {
			out = append(out, types.WriteRequest{PutRequest: &types.PutRequest{Item: it.Put.Item}})
		}
	}
	return out
}

// load writes reqs 25 a request on a few connections (loaders).
func (s *Store) load(ctx context.Context, w BatchWriter, reqs []types.WriteRequest) error {
	batches := make(chan []types.WriteRequest)
	errs := make(chan error, loaders)
	var wg sync.WaitGroup
	for range loaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if err := batchWrite(ctx, w, s.table, b); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < len(reqs); i += 25 {
		batches <- reqs[i:min(i+25, len(reqs))]
	}
	close(batches)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return nil
}

// loaders is how many batch writes a bulk load keeps in flight.
const loaders = 4

// rewindSweepCheckpoint moves the sweep checkpoint back to the day of at, if
// it is later.
func (s *Store) rewindSweepCheckpoint(ctx context.Context, at time.Time) error {
	return s.moveSweepCheckpoint(ctx, at, "attribute_exists(#f) AND #f > :f")
}

// batchWrite writes one batch of at most 25, retrying what DynamoDB leaves
// unprocessed.
func batchWrite(ctx context.Context, w BatchWriter, table string, reqs []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{table: reqs}
	for attempt := 0; len(pending[table]) > 0; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		res, err := w.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return fmt.Errorf("batch write: %w", err)
		}
		pending = res.UnprocessedItems
	}
	return nil
}
