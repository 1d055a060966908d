package ddb

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
	"onboarding/shared/partner"
)

// DeliveryRetention is how long deliveries stay listed.
const DeliveryRetention = 30 * 24 * time.Hour

// Partners lists an organisation's partners.
func (s *Store) Partners(ctx context.Context, orgID string) ([]partner.Partner, error) {
	return queryAll[partner.Partner](ctx, s, orgPK(orgID), partnerSK(""), "partners of "+orgID)
}

// queryAll reads every item of pk whose sort key begins with prefix.
func queryAll[T any](ctx context.Context, s *Store, pk, prefix, what string) ([]T, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrPK).Equal(expression.Value(pk)).And(expression.Key(attrSK).BeginsWith(prefix))).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: expr.KeyCondition(), ConsistentRead: aws.Bool(true),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	out := []T{}
	for p := dynamodb.NewQueryPaginator(s.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", what, err)
		}
		var vs []T
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &vs); err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// Partner reads one partner, or nil.
func (s *Store) Partner(ctx context.Context, orgID, partnerID string) (*partner.Partner, error) {
	var p partner.Partner
	found, err := s.get(ctx, key{orgPK(orgID), partnerSK(partnerID)}, &p)
	if err != nil || !found {
		return nil, err
	}
	return &p, nil
}

// PutPartner stores p if the stored partner still has prevVersion (0: none
// stored); else Conflict. Its queues are made due, so a webhook that was
// paused sends what waited.
func (s *Store) PutPartner(ctx context.Context, p partner.Partner, prevVersion int, e audit.Entry) error {
	it, err := item(key{orgPK(p.OrgID), partnerSK(p.ID)}, "partner", p, nil)
	if err != nil {
		return err
	}
	cond := expression.AttributeNotExists(expression.Name(attrPK))
	if prevVersion > 0 {
		cond = expression.Name("version").Equal(expression.Value(prevVersion))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	var t txn
	t.add("partner", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}})
	now := s.now()
	for _, ch := range p.Channels() {
		t.add("queue", s.dueItem(partner.Queue{OrgID: p.OrgID, PartnerID: p.ID, Channel: ch}, now))
	}
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	if err := s.transact(ctx, t); err != nil {
		if t.failed(err, "partner") {
			return fault.New(fault.Conflict, "the partner was changed meanwhile: read it again")
		}
		return fmt.Errorf("put partner %s: %w", p.ID, err)
	}
	return nil
}

// DeletePartner removes a partner. Its deliveries stay listed until their
// TTL; what is still queued is no longer sent.
func (s *Store) DeletePartner(ctx context.Context, p partner.Partner, e audit.Entry) error {
	var t txn
	t.add("partner", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{orgPK(p.OrgID), partnerSK(p.ID)}.av()}})
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	return s.transact(ctx, t)
}

// DisableWebhook stops a partner's webhook after a 410, unless the partner
// has been saved since (a new URL).
func (s *Store) DisableWebhook(ctx context.Context, p partner.Partner, reason string, at time.Time) error {
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("webhook.disabledAt"), expression.Value(at.UTC().Format(time.RFC3339Nano))).
			Set(expression.Name("webhook.disabledReason"), expression.Value(reason))).
		WithCondition(expression.Name("version").Equal(expression.Value(p.Version))).Build()
	if err != nil {
		return err
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key{orgPK(p.OrgID), partnerSK(p.ID)}.av(),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if isConditionFailed(err) {
		return nil // saved again meanwhile: the new settings decide
	}
	return err
}

// Sources reads what the service holds about the people changes name:
// one BatchGetItem for the members of changes that only name a user, one
// for email guards and pending guards, one for memberships, monitoring
// profiles and pending invitations (each per 100 keys).
func (s *Store) Sources(ctx context.Context, orgID string, changes []partner.Change) ([]partner.Source, error) {
	var emails emailList
	var byUser []key
	for _, c := range changes {
		if c.Email == "" && c.UserID != "" {
			byUser = append(byUser, key{orgPK(orgID), memberSK(c.UserID)})
		}
	}
	members, err := s.batchGetAll(ctx, byUser)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		if c.Email != "" {
			emails.add(c.Email)
		} else if it, ok := members[orgPK(orgID)+"|"+memberSK(c.UserID)]; ok {
			var m org.Member
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				return nil, err
			}
			emails.add(m.Email)
		}
	}
	// META rides along: its roles say who is monitored.
	guards := []key{{orgPK(orgID), skMeta}}
	for _, e := range emails.items {
		guards = append(guards, key{emailPK(e), skAccount}, key{orgPK(orgID), pendingSK(e)})
	}
	found, err := s.batchGetAll(ctx, guards)
	if err != nil {
		return nil, err
	}
	var o org.Organisation
	if it, ok := found[orgPK(orgID)+"|"+skMeta]; ok {
		if err := attributevalue.UnmarshalMap(it, &o); err != nil {
			return nil, err
		}
	}
	roles := access.Upgrade(o.Roles)
	var second []key
	userOf, inviteOf := map[string]string{}, map[string]string{}
	for _, e := range emails.items {
		if it, ok := found[emailPK(e)+"|"+skAccount]; ok {
			var g emailGuard
			if err := attributevalue.UnmarshalMap(it, &g); err != nil {
				return nil, err
			}
			userOf[e] = g.UserID
			second = append(second, key{orgPK(orgID), memberSK(g.UserID)}, key{orgPK(orgID), monitorSK(g.UserID)})
		}
		if it, ok := found[orgPK(orgID)+"|"+pendingSK(e)]; ok {
			var g pendingGuard
			if err := attributevalue.UnmarshalMap(it, &g); err != nil {
				return nil, err
			}
			inviteOf[e] = g.InvitationID
			second = append(second, key{orgPK(orgID), inviteSK(g.InvitationID)})
		}
	}
	items, err := s.batchGetAll(ctx, second)
	if err != nil {
		return nil, err
	}
	out := make([]partner.Source, 0, len(emails.items))
	for _, e := range emails.items {
		src := partner.Source{OrgID: orgID, Email: e, Roles: roles}
		if uid := userOf[e]; uid != "" {
			if it, ok := items[orgPK(orgID)+"|"+memberSK(uid)]; ok {
				src.Member = &org.Member{}
				if err := attributevalue.UnmarshalMap(it, src.Member); err != nil {
					return nil, err
				}
			}
			if it, ok := items[orgPK(orgID)+"|"+monitorSK(uid)]; ok && src.Member != nil {
				src.Profile = &monitor.Record{}
				if err := attributevalue.UnmarshalMap(it, src.Profile); err != nil {
					return nil, err
				}
			}
		}
		if id := inviteOf[e]; id != "" {
			if it, ok := items[orgPK(orgID)+"|"+inviteSK(id)]; ok {
				src.Invitation = &invite.Invitation{}
				if err := attributevalue.UnmarshalMap(it, src.Invitation); err != nil {
					return nil, err
				}
				if src.Invitation.Status != invite.Pending || !src.Invitation.ExpiresAt.After(s.now()) {
					src.Invitation = nil
				}
			}
		}
		out = append(out, src)
	}
	return out, nil
}

// emailList is a list of emails in the order first added, each once.
type emailList struct {
	items []string
	seen  map[string]bool
}

func (l *emailList) add(e string) {
	if e == "" || l.seen[e] {
		return
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	l.seen[e] = true
	l.items = append(l.items, e)
}

// batchGetAll reads any number of items, 100 keys to a request.
func (s *Store) batchGetAll(ctx context.Context, keys []key) (map[string]map[string]types.AttributeValue, error) {
	out := map[string]map[string]types.AttributeValue{}
	for start := 0; start < len(keys); start += 100 {
		got, err := s.batchGet(ctx, keys[start:min(start+100, len(keys))]...)
		if err != nil {
			return nil, err
		}
		for k, v := range got {
			out[k] = v
		}
	}
	return out, nil
}

// Snapshots reads what partners were last told: at the keys by worker id,
// then, for those not found, at the keys by email where snapshots were kept
// before; each found there is moved (once: read both, write the new).
func (s *Store) Snapshots(ctx context.Context, orgID string, keys []partner.SnapshotKey) (map[partner.SnapshotKey]partner.Snapshot, error) {
	ks := make([]key, len(keys))
	for i, k := range keys {
		ks[i] = snapshotKey(orgID, k.PartnerID, k.Email)
	}
	items, err := s.batchGetAll(ctx, ks)
	if err != nil {
		return nil, err
	}
	out := map[partner.SnapshotKey]partner.Snapshot{}
	var missing []partner.SnapshotKey
	var legacy []key
	for i, k := range keys {
		it, ok := items[ks[i].PK+"|"+ks[i].SK]
		if !ok {
			missing = append(missing, k)
			legacy = append(legacy, key{orgPK(orgID), legacySnapshotSK(k.PartnerID, k.Email)})
			continue
		}
		var sn partner.Snapshot
		if err := attributevalue.UnmarshalMap(it, &sn); err != nil {
			return nil, err
		}
		sn.Email = k.Email // a removed worker's is stored without it
		out[k] = sn
	}
	old, err := s.batchGetAll(ctx, legacy)
	if err != nil {
		return nil, err
	}
	for i, k := range missing {
		it, ok := old[legacy[i].PK+"|"+legacy[i].SK]
		if !ok {
			continue
		}
		var sn partner.Snapshot
		if err := attributevalue.UnmarshalMap(it, &sn); err != nil {
			return nil, err
		}
		sn.OrgID, sn.PartnerID, sn.Email = orgID, k.PartnerID, k.Email
		if err := s.moveSnapshot(ctx, sn, legacy[i]); err != nil {
			return nil, err
		}
		out[k] = sn
	}
	return out, nil
}

// ToldOf returns what each of the organisation's partners was last told of
// email's worker (Query PARTNER#, then BatchGetItem of the snapshots at
// both keys; read only, nothing moved).
func (s *Store) ToldOf(ctx context.Context, orgID, email string) ([]partner.Told, error) {
	ps, err := s.Partners(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var ks []key
	for _, p := range ps {
		ks = append(ks, snapshotKey(orgID, p.ID, email), key{orgPK(orgID), legacySnapshotSK(p.ID, email)})
	}
	items, err := s.batchGetAll(ctx, ks)
	if err != nil {
		return nil, err
	}
	out := []partner.Told{}
	for i, p := range ps {
		for _, k := range ks[2*i : 2*i+2] {
			it, ok := items[k.PK+"|"+k.SK]
			if !ok {
				continue
			}
			var sn partner.Snapshot
			if err := attributevalue.UnmarshalMap(it, &sn); err != nil {
				return nil, err
			}
			if sn.Generation == p.Generation { // else an earlier partner's of this id
				out = append(out, partner.ToldOf(p, sn))
			}
			break
		}
	}
	return out, nil
}

// moveSnapshot puts sn at its key by worker id and deletes it at from, its
// key by email, if both are as read; else Conflict (another run moved or
// changed it: the notifier reads again).
func (s *Store) moveSnapshot(ctx context.Context, sn partner.Snapshot, from key) error {
	it, err := snapshotItem(sn)
	if err != nil {
		return err
	}
	var t txn
	t.add("snapshot", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	t.add("legacy", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: from.av(),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(int64(sn.Version))}}})
	err = s.transact(ctx, t)
	if t.failed(err, "snapshot") || t.failed(err, "legacy") {
		return fault.New(fault.Conflict, "a partner's snapshot was moved meanwhile")
	}
	if err != nil {
		return fmt.Errorf("move a partner snapshot: %w", err)
	}
	return nil
}

type outboxEntry struct {
	DeliveryID string `dynamodbav:"deliveryId"`
	SK         string `dynamodbav:"SK,omitempty"` // read only: the entry's number
}

// Record writes deliveries, their queue entries and the snapshots they
// bring partners to in one transaction, each snapshot conditional on the
// version read.
func (s *Store) Record(ctx context.Context, ds []partner.Delivery, snaps []partner.Snapshot, prev map[partner.SnapshotKey]int) error {
	return s.record(ctx, ds, snaps, prev, txn{})
}

// record adds to t (which may hold an audit entry) the items Record writes,
// and runs it.
func (s *Store) record(ctx context.Context, ds []partner.Delivery, snaps []partner.Snapshot, prev map[partner.SnapshotKey]int, t txn) error {
	now := s.now()
	// Each queue numbers its entries: the outbox is read in that order, and
	// the number moves on only if no one else took it meanwhile.
	var queues []partner.Queue
	var qkeys []key
	for _, d := range ds {
		q := partner.Queue{OrgID: d.OrgID, PartnerID: d.PartnerID, Channel: d.Channel}
		if !slices.Contains(queues, q) {
			queues = append(queues, q)
			qkeys = append(qkeys, key{orgPK(q.OrgID), queueSK(q)})
		}
	}
	found, err := s.batchGetAll(ctx, qkeys)
	if err != nil {
		return err
	}
	read, next, count := map[partner.Queue]int{}, map[partner.Queue]int{}, map[partner.Queue]int{}
	for _, q := range queues {
		var st struct {
			Next int `dynamodbav:"next"`
		}
		if it, ok := found[orgPK(q.OrgID)+"|"+queueSK(q)]; ok {
			if err := attributevalue.UnmarshalMap(it, &st); err != nil {
				return err
			}
		}
		read[q], next[q] = st.Next, st.Next
	}
	for _, d := range ds {
		q := partner.Queue{OrgID: d.OrgID, PartnerID: d.PartnerID, Channel: d.Channel}
		next[q]++
		count[q]++
		d.Seq = next[q]
		it, err := item(key{orgPK(d.OrgID), deliverySK(d.PartnerID, d.ID)}, "delivery", d,
			map[string]types.AttributeValue{attrTTL: num(d.CreatedAt.Add(DeliveryRetention).Unix())})
		if err != nil {
			return err
		}
		ob, err := item(key{orgPK(d.OrgID), outboxSK(q, d.Seq)}, "outbox", outboxEntry{DeliveryID: d.ID}, nil)
		if err != nil {
			return err
		}
		t.add("delivery", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
		t.add("outbox", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: ob, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	for _, q := range queues {
		u := onQueue(expression.Add(expression.Name("pending"), expression.Value(count[q])).
			Set(expression.Name("next"), expression.Value(next[q])), q, &now)
		cond := expression.Name("next").Equal(expression.Value(read[q]))
		if read[q] == 0 {
			cond = expression.AttributeNotExists(expression.Name("next")).Or(cond)
		}
		expr, err := expression.NewBuilder().WithUpdate(u).WithCondition(cond).Build()
		if err != nil {
			return err
		}
		t.add("queue", s.updateItem(key{orgPK(q.OrgID), queueSK(q)}, expr))
	}
	for _, sn := range snaps {
		it, err := snapshotItem(sn)
		if err != nil {
			return err
		}
		cond := expression.AttributeNotExists(expression.Name(attrPK))
		if v, ok := prev[partner.SnapshotKey{PartnerID: sn.PartnerID, Email: sn.Email}]; ok {
			cond = expression.Name("version").Equal(expression.Value(v))
		}
		expr, err := expression.NewBuilder().WithCondition(cond).Build()
		if err != nil {
			return err
		}
		t.add("snapshot", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it, ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}})
	}
	if err := fitsOneTransaction(t.items); err != nil {
		return fmt.Errorf("record partner deliveries: %w", err)
	}
	err = s.transact(ctx, t)
	if t.failed(err, "queue") || t.failed(err, "snapshot") {
		return fault.New(fault.Conflict, "a partner was told of this worker, or its queue moved, meanwhile")
	}
	if err != nil {
		return fmt.Errorf("record partner deliveries: %w", err)
	}
	return nil
}

// fitsOneTransaction checks what DynamoDB would refuse with a less telling
// error: an item over maxItemBytes, or more than maxTransactionBytes in all.
// The notifier cuts deliveries well inside both (partner.MaxDeliveryBytes,
// partner.MaxRecordBytes); this names the culprit if that ever drifts.
// Updates are counted by what they send: here, small queue counters.
func fitsOneTransaction(items []types.TransactWriteItem) error {
	total := 0
	for _, it := range items {
		n := 0
		switch {
		case it.Put != nil:
			n = itemSize(it.Put.Item)
		case it.Update != nil:
			n = itemSize(it.Update.Key) + itemSize(it.Update.ExpressionAttributeValues)
		case it.Delete != nil:
			n = itemSize(it.Delete.Key)
		}
		if n > maxItemBytes {
			what := ""
			if it.Put != nil {
				if v, ok := it.Put.Item[attrType].(*types.AttributeValueMemberS); ok {
					what = v.Value
				}
			}
			return fmt.Errorf("a %s item of %d bytes is over DynamoDB's %d", what, n, maxItemBytes)
		}
		total += n
	}
	if total > maxTransactionBytes {
		return fmt.Errorf("%d items of %d bytes in all are over DynamoDB's %d for a transaction", len(items), total, maxTransactionBytes)
	}
	return nil
}

// snapshotItem is sn as stored. A removed worker's keeps only its version
// (and generation): the next event, should they come back, continues
// meta.version; their address and what they were is no longer the
// service's to keep once the partner has been told they left.
func snapshotItem(sn partner.Snapshot) (map[string]types.AttributeValue, error) {
	it, err := item(snapshotKey(sn.OrgID, sn.PartnerID, sn.Email), "partnerSnapshot", sn, nil)
	if err != nil || sn.Present {
		return it, err
	}
	delete(it, "email")
	delete(it, "fields")
	return it, nil
}

// EventSize is how many bytes e adds to a stored delivery: its map in the
// events list, and the list's byte for it.
func (s *Store) EventSize(e partner.Event) (int, error) {
	v, err := attributevalue.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("marshal event: %w", err)
	}
	return 1 + valueSize(v), nil
}

// SnapshotSize is the size of sn's item, key and all.
func (s *Store) SnapshotSize(sn partner.Snapshot) (int, error) {
	it, err := snapshotItem(sn)
	if err != nil {
		return 0, err
	}
	return itemSize(it), nil
}

// queueCount is the update that counts deliveries into (n > 0) or out of
// a queue; with due, the queue is also marked due then (in case whoever
// sends next dies first).
func (s *Store) queueCount(q partner.Queue, n int, due *time.Time) types.TransactWriteItem {
	u := onQueue(expression.Add(expression.Name("pending"), expression.Value(n)), q, due)
	expr, _ := expression.NewBuilder().WithUpdate(u).Build()
	return s.updateItem(key{orgPK(q.OrgID), queueSK(q)}, expr)
}

// onQueue adds to u what every update of a queue item sets: which queue it
// is (the due index lists queues by it) and, with due, when it is next due.
func onQueue(u expression.UpdateBuilder, q partner.Queue, due *time.Time) expression.UpdateBuilder {
	u = u.Set(expression.Name("orgId"), expression.Value(q.OrgID)).
		Set(expression.Name("partnerId"), expression.Value(q.PartnerID)).
		Set(expression.Name("channel"), expression.Value(q.Channel))
	if due != nil {
		u = u.Set(expression.Name(attrDuePK), expression.Value(pkRedeliver)).
			Set(expression.Name(attrDueSK), expression.Value(queueDueSK(q, *due)))
	}
	return u
}

// dueItem marks a queue due at at.
func (s *Store) dueItem(q partner.Queue, at time.Time) types.TransactWriteItem {
	return s.queueCount(q, 0, &at)
}

// MarkDue asks for a queue to be sent at at.
func (s *Store) MarkDue(ctx context.Context, q partner.Queue, at time.Time) error {
	var t txn
	t.add("queue", s.dueItem(q, at))
	return s.transact(ctx, t)
}

// LeaseQueue takes a queue for sending until until, if no one holds it.
func (s *Store) LeaseQueue(ctx context.Context, q partner.Queue, now, until time.Time) (bool, error) {
	expr, err := expression.NewBuilder().
		WithUpdate(onQueue(expression.Set(expression.Name("leaseUntil"), expression.Value(until.UnixMilli())), q, &until)).
		WithCondition(expression.AttributeNotExists(expression.Name("leaseUntil")).
			Or(expression.Name("leaseUntil").LessThan(expression.Value(now.UnixMilli())))).Build()
	if err != nil {
		return false, err
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key{orgPK(q.OrgID), queueSK(q)}.av(),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// ReleaseQueue gives a queue up, due at due (nil: not due; with ifEmpty
// only while it holds no delivery).
func (s *Store) ReleaseQueue(ctx context.Context, q partner.Queue, due *time.Time, ifEmpty bool) (bool, error) {
	b := expression.NewBuilder()
	if due != nil {
		b = b.WithUpdate(onQueue(expression.Remove(expression.Name("leaseUntil")), q, due))
	} else {
		b = b.WithUpdate(expression.Remove(expression.Name("leaseUntil")).
			Remove(expression.Name(attrDuePK)).Remove(expression.Name(attrDueSK)))
		if ifEmpty {
			b = b.WithCondition(expression.AttributeNotExists(expression.Name("pending")).
				Or(expression.Name("pending").LessThanEqual(expression.Value(0))))
		}
	}
	expr, err := b.Build()
	if err != nil {
		return false, err
	}
	in := &dynamodb.UpdateItemInput{TableName: &s.table, Key: key{orgPK(q.OrgID), queueSK(q)}.av(),
		UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	if expr.Condition() != nil {
		in.ConditionExpression = expr.Condition()
	}
	_, err = s.client.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// Outbox lists a queue's undelivered deliveries, oldest first.
func (s *Store) Outbox(ctx context.Context, q partner.Queue, limit int) ([]partner.Delivery, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrPK).Equal(expression.Value(orgPK(q.OrgID))).And(expression.Key(attrSK).BeginsWith(outboxPrefix(q)))).Build()
	if err != nil {
		return nil, err
	}
	res, err := s.client.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true),
		Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, fmt.Errorf("query outbox: %w", err)
	}
	var keys []key
	var entries []partner.Delivery
	for _, it := range res.Items {
		var e outboxEntry
		if err := attributevalue.UnmarshalMap(it, &e); err != nil {
			return nil, err
		}
		seq, err := outboxSeq(q, e.SK)
		if err != nil {
			return nil, fmt.Errorf("outbox entry %s: %w", e.SK, err)
		}
		keys = append(keys, key{orgPK(q.OrgID), deliverySK(q.PartnerID, e.DeliveryID)})
		entries = append(entries, partner.Delivery{OrgID: q.OrgID, PartnerID: q.PartnerID, Channel: q.Channel, ID: e.DeliveryID, Seq: seq})
	}
	items, err := s.batchGetAll(ctx, keys) // consistent: a delivery and its entry are written together
	if err != nil {
		return nil, err
	}
	var out []partner.Delivery
	for i, k := range keys {
		it, ok := items[k.PK+"|"+k.SK]
		if !ok {
			// Its TTL passed while it waited: the sender takes the entry out.
			gone := entries[i]
			gone.Gone = true
			out = append(out, gone)
			continue
		}
		var d partner.Delivery
		if err := attributevalue.UnmarshalMap(it, &d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// SaveAttempt stores a delivery after an attempt; done takes it out of its
// queue.
func (s *Store) SaveAttempt(ctx context.Context, d partner.Delivery, done bool) error {
	it, err := item(key{orgPK(d.OrgID), deliverySK(d.PartnerID, d.ID)}, "delivery", d,
		map[string]types.AttributeValue{attrTTL: num(d.CreatedAt.Add(DeliveryRetention).Unix())})
	if err != nil {
		return err
	}
	var t txn
	t.add("delivery", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it}})
	if done {
		q := partner.Queue{OrgID: d.OrgID, PartnerID: d.PartnerID, Channel: d.Channel}
		t.add("outbox", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{orgPK(d.OrgID), outboxSK(q, d.Seq)}.av(),
			ConditionExpression: aws.String("attribute_exists(PK)")}})
		t.add("queue", s.queueCount(q, -1, nil))
	}
	err = s.transact(ctx, t)
	if t.failed(err, "outbox") {
		// Already out of the queue (a redelivery racing): store it alone.
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it})
	}
	if err != nil {
		return fmt.Errorf("save delivery %s: %w", d.ID, err)
	}
	return nil
}

// Unqueue takes out of its queue an entry whose delivery item is gone, and
// counts it out, together; false when the entry was already out (another
// sender took it first, and counted it).
func (s *Store) Unqueue(ctx context.Context, q partner.Queue, seq int, deliveryID string) (bool, error) {
	expr, err := expression.NewBuilder().WithCondition(expression.Name("deliveryId").Equal(expression.Value(deliveryID))).Build()
	if err != nil {
		return false, err
	}
	var t txn
	t.add("outbox", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{orgPK(q.OrgID), outboxSK(q, seq)}.av(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}})
	t.add("queue", s.queueCount(q, -1, nil))
	err = s.transact(ctx, t)
	if t.failed(err, "outbox") {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("unqueue %s: %w", deliveryID, err)
	}
	return true, nil
}

// DueQueues lists queues due at now, oldest first.
func (s *Store) DueQueues(ctx context.Context, now time.Time, limit int) ([]partner.Queue, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrDuePK).Equal(expression.Value(pkRedeliver)).
			And(expression.Key(attrDueSK).LessThanEqual(expression.Value(queuesDueBy(now))))).Build()
	if err != nil {
		return nil, err
	}
	res, err := s.client.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(IndexDue),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, fmt.Errorf("query due partner queues: %w", err)
	}
	var qs []partner.Queue
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &qs); err != nil {
		return nil, err
	}
	return qs, nil
}

// Deliveries lists a partner's deliveries, newest first.
func (s *Store) Deliveries(ctx context.Context, orgID, partnerID string, limit int, cursor string) ([]partner.Delivery, string, error) {
	pk, prefix := orgPK(orgID), deliverySK(partnerID, "")
	start, err := decodeCursor(cursor, map[string]string{attrPK: pk}, map[string]string{attrSK: prefix})
	if err != nil {
		return nil, "", err
	}
	expr, err := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrPK).Equal(expression.Value(pk)).And(expression.Key(attrSK).BeginsWith(prefix))).Build()
	if err != nil {
		return nil, "", err
	}
	return queryPage[partner.Delivery](ctx, s, &dynamodb.QueryInput{
		TableName: &s.table, Limit: aws.Int32(int32(limit)), ScanIndexForward: aws.Bool(false), ExclusiveStartKey: start,
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}, "deliveries of "+partnerID)
}

// Delivery reads one delivery, or returns NotFound.
func (s *Store) Delivery(ctx context.Context, orgID, partnerID, id string) (partner.Delivery, error) {
	var d partner.Delivery
	found, err := s.get(ctx, key{orgPK(orgID), deliverySK(partnerID, id)}, &d)
	if err != nil {
		return d, err
	}
	if !found {
		return d, fault.New(fault.NotFound, "no such delivery")
	}
	return d, nil
}

// Redeliver queues a copy of a delivery (a new webhook-id, the same event
// ids) behind what is waiting, due at once.
func (s *Store) Redeliver(ctx context.Context, d partner.Delivery, e audit.Entry) error {
	var t txn
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	return s.record(ctx, []partner.Delivery{d}, nil, nil, t)
}

// People lists the emails of everyone a resync of partnerID looks at:
// members, pending invitations, and whoever the partner was told of.
func (s *Store) People(ctx context.Context, orgID, partnerID string) ([]string, error) {
	var emails emailList
	err := eachPage(func(cursor string) ([]org.Member, string, error) {
		return s.ListMembers(ctx, orgID, "", "", 100, cursor)
	}, func(m org.Member) { emails.add(m.Email) })
	if err != nil {
		return nil, err
	}
	err = eachPage(func(cursor string) ([]invite.Invitation, string, error) {
		return s.ListInvitations(ctx, orgID, invite.Pending, 100, cursor, s.now())
	}, func(inv invite.Invitation) { emails.add(inv.Email) })
	if err != nil {
		return nil, err
	}
	snaps, err := queryAll[partner.Snapshot](ctx, s, orgPK(orgID), snapshotSK(partnerID, ""), "snapshots of "+partnerID)
	if err != nil {
		return nil, err
	}
	for _, sn := range snaps {
		if sn.Present {
			emails.add(sn.Email)
		}
	}
	return emails.items, nil
}

// eachPage calls each for every item of every page fetch returns.
func eachPage[T any](fetch func(cursor string) ([]T, string, error), each func(T)) error {
	for cursor := ""; ; {
		items, next, err := fetch(cursor)
		if err != nil {
			return err
		}
		for _, it := range items {
			each(it)
		}
		if cursor = next; cursor == "" {
			return nil
		}
	}
}

// OrgNameAndLanguage returns an organisation's name and default language
// (one GetItem).
func (s *Store) OrgNameAndLanguage(ctx context.Context, orgID string) (string, string, error) {
	var o org.Organisation
	found, err := s.get(ctx, key{orgPK(orgID), skMeta}, &o)
	if err != nil {
		return "", "", err
	}
	if !found {
		return "", "", fault.New(fault.NotFound, "no organisation %s", orgID)
	}
	return o.Name, o.Settings.DefaultLanguage, nil
}

// OrgAdmins returns an organisation's name and its organisation-wide
// admins, each in the language of their account.
func (s *Store) OrgAdmins(ctx context.Context, orgID string) (string, []org.Recipient, error) {
	o, _, err := s.Actor(ctx, orgID, "")
	if err != nil {
		return "", nil, err
	}
	var out []org.Recipient
	err = eachPage(func(cursor string) ([]org.Member, string, error) {
		return s.ListMembers(ctx, orgID, access.Owner, "", 100, cursor)
	}, func(m org.Member) {
		if !m.IsOrgWideAdmin() {
			return
		}
		r := org.Recipient{Email: m.Email, Name: m.FirstName, Language: o.Settings.DefaultLanguage}
		if a, err := s.Account(ctx, m.UserID); err == nil && a != nil && a.Language != "" {
			r.Language = a.Language
		}
		out = append(out, r)
	})
	return o.Name, out, err
}
