package ddb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
)

// roleHolders is a role's counter item: how many members and pending
// invitations hold it. The role table lives in META; this item lets the
// table's write see, inside its transaction, that a role it deletes holds
// no one, and lets a write that gives someone a role fail once the role is
// gone.
type roleHolders struct {
	Role        string `dynamodbav:"role"`
	Members     int    `dynamodbav:"members"`
	Invitations int    `dynamodbav:"invitations"`
}

// roleItem names the holder counter of role key in a transaction.
func roleItem(key string) string { return "role:" + key }

// holders adds to the counts of role's members and pending invitations.
// The counter must exist: ADD would create a missing one, bringing back a
// role deleted meanwhile. Nothing is added when both deltas are zero.
func (s *Store) holders(t *txn, orgID, role string, members, invitations int) {
	if members == 0 && invitations == 0 {
		return
	}
	t.add(roleItem(role), types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key{orgPK(orgID), roleSK(role)}.av(),
		UpdateExpression:    aws.String("ADD members :m, invitations :i"),
		ConditionExpression: aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":m": num(int64(members)), ":i": num(int64(invitations)),
		},
	}})
}

// moveHolder moves one holder (a member with members, else a pending
// invitation) from role from to role to; nothing when they are the same.
func (s *Store) moveHolder(t *txn, orgID, from, to string, member bool) {
	if from == to {
		return
	}
	m, i := 0, 1
	if member {
		m, i = 1, 0
	}
	s.holders(t, orgID, from, -m, -i)
	s.holders(t, orgID, to, m, i)
}

// roleGone is the answer when a role's counter is missing and stays so:
// the role was deleted meanwhile (transact creates the missing counters of
// roles still in the table; see healCounters).
func roleGone(role string) error {
	return fault.New(fault.Conflict, "the role %q does not exist (any more)", role).With("role", role)
}

// putHolders are the Puts that create the counters of new roles.
func (s *Store) putHolders(t *txn, orgID string, roles []string) error {
	for _, r := range roles {
		it, err := item(key{orgPK(orgID), roleSK(r)}, "roleHolders", roleHolders{Role: r}, nil)
		if err != nil {
			return err
		}
		t.add(roleItem(r), types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it,
			ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	return nil
}

// PutRoles replaces the role table stored at version (0: never changed)
// with roles in one transaction: META's roles if its version is still
// version, a counter for each new role, and each removed role's counter
// deleted if nothing holds it. The cost does not grow with the members: no
// member item names more than a role's key.
func (s *Store) PutRoles(ctx context.Context, orgID string, version int, old, roles access.Roles, e audit.Entry) (int, error) {
	v, err := attributevalue.Marshal(roles)
	if err != nil {
		return 0, err
	}
	u := &types.Update{
		TableName: &s.table, Key: key{orgPK(orgID), skMeta}.av(),
		UpdateExpression:          aws.String("SET #roles = :r, rolesVersion = :next"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND rolesVersion = :v"),
		ExpressionAttributeNames:  map[string]string{"#roles": "roles"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": v, ":next": num(int64(version + 1)), ":v": num(int64(version))},
	}
	if version == 0 {
		u.ConditionExpression = aws.String("attribute_exists(PK) AND attribute_not_exists(rolesVersion)")
		delete(u.ExpressionAttributeValues, ":v")
	}
	var t txn
	t.add("organisation", types.TransactWriteItem{Update: u})
	var added, removed []string
	for _, r := range roles {
		if _, ok := old.Find(r.Key); !ok {
			added = append(added, r.Key)
		}
	}
	for _, r := range old {
		if _, ok := roles.Find(r.Key); !ok {
			removed = append(removed, r.Key)
		}
	}
	if err := s.putHolders(&t, orgID, added); err != nil {
		return 0, err
	}
	for _, r := range removed {
		t.add(roleItem(r), types.TransactWriteItem{Delete: &types.Delete{
			TableName: &s.table, Key: key{orgPK(orgID), roleSK(r)}.av(),
			ConditionExpression:                 aws.String("attribute_exists(PK) AND members = :zero AND invitations = :zero"),
			ExpressionAttributeValues:           map[string]types.AttributeValue{":zero": num(0)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}})
	}
	if err := s.withAudit(&t, e); err != nil {
		return 0, err
	}
	err = s.transact(ctx, t)
	if t.failed(err, "organisation") {
		return 0, fault.New(fault.Conflict, "the roles changed meanwhile; reload them and apply your change again")
	}
	if err := rolesInUse(t, err, removed); err != nil {
		return 0, err
	}
	for _, r := range added {
		if t.failed(err, roleItem(r)) {
			return 0, fault.New(fault.Conflict, "the role %q was being removed meanwhile; try again", r)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("put roles of %s: %w", orgID, err)
	}
	return version + 1, nil
}

// RoleInUse is how many hold a role that a change would delete.
type RoleInUse struct {
	Role        string `json:"role"`
	Members     int    `json:"members"`
	Invitations int    `json:"invitations"`
}

// rolesInUse turns the removed roles whose counter refused the delete into
// a Conflict that names how many members and pending invitations hold each
// (problem member "inUse").
func rolesInUse(t txn, err error, removed []string) error {
	var inUse []RoleInUse
	for _, r := range removed {
		reason, ok := t.failure(err, roleItem(r))
		if !ok {
			continue
		}
		if len(reason.Item) == 0 {
			// transact counted what it could: the role left META meanwhile.
			return fault.New(fault.Conflict, "the role %q was removed meanwhile; reload the roles and try again", r)
		}
		var h roleHolders
		if err := attributevalue.UnmarshalMap(reason.Item, &h); err != nil {
			return err
		}
		inUse = append(inUse, RoleInUse{Role: r, Members: h.Members, Invitations: h.Invitations})
	}
	if len(inUse) == 0 {
		return nil
	}
	u := inUse[0]
	return fault.New(fault.Conflict, "the role %q is held by %d members and %d pending invitations; give them another role first",
		u.Role, u.Members, u.Invitations).With("inUse", inUse)
}

// missingRole names the role whose counter failed in t when err cancelled
// it, among roles; nil when none did.
func missingRole(t txn, err error, roles ...string) error {
	for _, r := range roles {
		if t.failed(err, roleItem(r)) {
			return roleGone(r)
		}
	}
	return nil
}

// RoleHolders returns each role's counts of members and pending
// invitations, by key: one Query of the organisation's ROLE# items.
func (s *Store) RoleHolders(ctx context.Context, orgID string) (map[string]RoleInUse, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrPK).Equal(expression.Value(orgPK(orgID))).And(expression.Key(attrSK).BeginsWith(roleSK("")))).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	out := map[string]RoleInUse{}
	for p := dynamodb.NewQueryPaginator(s.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query role holders of %s: %w", orgID, err)
		}
		var hs []roleHolders
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &hs); err != nil {
			return nil, err
		}
		for _, h := range hs {
			out[h.Role] = RoleInUse{Role: h.Role, Members: h.Members, Invitations: h.Invitations}
		}
	}
	return out, nil
}
