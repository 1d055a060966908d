package ddb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/org"
)

type unitNameGuard struct {
	UnitID string `dynamodbav:"unitId"`
}

var errUnitName = fault.New(fault.Conflict, "a unit with this name exists already")

// CreateUnit stores a unit and reserves its name.
func (s *Store) CreateUnit(ctx context.Context, orgID string, u org.Unit, e audit.Entry) error {
	unit, err := item(key{orgPK(orgID), unitSK(u.ID)}, "unit", u, nil)
	if err != nil {
		return err
	}
	guard, err := item(key{orgPK(orgID), unitNameSK(org.NameKey(u.Name))}, "unitNameGuard", unitNameGuard{UnitID: u.ID}, nil)
	if err != nil {
		return err
	}
	var t txn
	t.add("unit", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: unit, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	t.add("name", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: guard, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	err = s.transact(ctx, t)
	if t.failed(err, "name") {
		return errUnitName
	}
	if err != nil {
		return fmt.Errorf("create unit: %w", err)
	}
	return nil
}

// ListUnits returns all of an organisation's units.
func (s *Store) ListUnits(ctx context.Context, orgID string) ([]org.Unit, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrPK).Equal(expression.Value(orgPK(orgID))).And(expression.Key(attrSK).BeginsWith(unitSK("")))).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	units := []org.Unit{}
	for p := dynamodb.NewQueryPaginator(s.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query units of %s: %w", orgID, err)
		}
		var us []org.Unit
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &us); err != nil {
			return nil, err
		}
		units = append(units, us...)
	}
	return units, nil
}

// Unit reads one unit.
func (s *Store) Unit(ctx context.Context, orgID, unitID string) (org.Unit, error) {
	var u org.Unit
	found, err := s.get(ctx, key{orgPK(orgID), unitSK(unitID)}, &u)
	if err != nil {
		return u, err
	}
	if !found {
		return u, fault.New(fault.NotFound, "no such unit")
	}
	return u, nil
}

// RenameUnit renames a unit and moves its name reservation.
func (s *Store) RenameUnit(ctx context.Context, orgID string, old org.Unit, name string, e audit.Entry) (org.Unit, error) {
	var t txn
	t.add("unit", types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key{orgPK(orgID), unitSK(old.ID)}.av(),
		UpdateExpression:          aws.String("SET #n = :n"),
		ConditionExpression:       aws.String("#n = :old"),
		ExpressionAttributeNames:  map[string]string{"#n": "name"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": str(name), ":old": str(old.Name)},
	}})
	if org.NameKey(name) != org.NameKey(old.Name) {
		guard, err := item(key{orgPK(orgID), unitNameSK(org.NameKey(name))}, "unitNameGuard", unitNameGuard{UnitID: old.ID}, nil)
		if err != nil {
			return org.Unit{}, err
		}
		t.add("name", types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: guard, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
		t.add("old name", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{orgPK(orgID), unitNameSK(org.NameKey(old.Name))}.av()}})
	}
	if err := s.withAudit(&t, e); err != nil {
		return org.Unit{}, err
	}
	err := s.transact(ctx, t)
	if t.failed(err, "name") {
		return org.Unit{}, errUnitName
	}
	if t.failed(err, "unit") {
		return org.Unit{}, fault.New(fault.Conflict, "the unit changed meanwhile; reload")
	}
	if err != nil {
		return org.Unit{}, fmt.Errorf("rename unit %s: %w", old.ID, err)
	}
	old.Name = name
	return old, nil
}

// UnitInUse reports whether a pending invitation or a member is in the
// unit. It reads all of the organisation's invitations, then its members,
// strongly consistent: the status index would read fewer, but it may lag
// behind a write that DeleteUnit's condition no longer sees (a rare,
// admin-only operation). Read in this order, an invitation accepted
// meanwhile is found as one or the other: the member is written with the
// acceptance.
func (s *Store) UnitInUse(ctx context.Context, orgID, unitID string) (bool, error) {
	inUnit := expression.Contains(expression.Name("units"), unitID)
	queries := []struct {
		skPrefix string
		filter   expression.ConditionBuilder
	}{
		{inviteSK(""), inUnit.And(expression.Name("status").Equal(expression.Value(invite.Pending)))},
		{memberSK(""), inUnit},
	}
	for _, q := range queries {
		expr, err := expression.NewBuilder().
			WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(orgPK(orgID))).And(expression.Key(attrSK).BeginsWith(q.skPrefix))).
			WithFilter(q.filter).Build()
		if err != nil {
			return false, err
		}
		in := &dynamodb.QueryInput{TableName: &s.table, Select: types.SelectCount, ConsistentRead: aws.Bool(true),
			KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
		for p := dynamodb.NewQueryPaginator(s.client, in); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return false, fmt.Errorf("check unit %s: %w", unitID, err)
			}
			if page.Count > 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// DeleteUnit deletes a unit and frees its name, if nothing has joined it
// since u was read (see UnitInUse and joinUnits).
func (s *Store) DeleteUnit(ctx context.Context, orgID string, u org.Unit, e audit.Entry) error {
	unchanged := expression.AttributeNotExists(expression.Name("joins"))
	if u.Joins > 0 {
		unchanged = expression.Name("joins").Equal(expression.Value(u.Joins))
	}
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeExists(expression.Name(attrPK)).And(unchanged)).Build()
	if err != nil {
		return fmt.Errorf("build unit delete condition: %w", err)
	}
	var t txn
	t.add("unit", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{orgPK(orgID), unitSK(u.ID)}.av(),
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}})
	t.add("name", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{orgPK(orgID), unitNameSK(org.NameKey(u.Name))}.av()}})
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	err = s.transact(ctx, t)
	if r, ok := t.failure(err, "unit"); ok {
		if len(r.Item) > 0 {
			return fault.New(fault.Conflict, "an invitation or a member was put in the unit meanwhile")
		}
		return fault.New(fault.NotFound, "no such unit")
	}
	if err != nil {
		return fmt.Errorf("delete unit %s: %w", u.ID, err)
	}
	return nil
}

// UpdateSettings stores an organisation's settings.
func (s *Store) UpdateSettings(ctx context.Context, orgID string, st org.Settings, e audit.Entry) error {
	v, err := attributevalue.Marshal(st)
	if err != nil {
		return err
	}
	var t txn
	t.add("organisation", types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key{orgPK(orgID), skMeta}.av(),
		UpdateExpression:          aws.String("SET settings = :s"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": v},
	}})
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	err = s.transact(ctx, t)
	if t.failed(err, "organisation") {
		return fault.New(fault.NotFound, "no such organisation")
	}
	if err != nil {
		return fmt.Errorf("update settings of %s: %w", orgID, err)
	}
	return nil
}

// joinUnits are the writes that put something in each of units: each unit
// must exist, and its count of joins goes up. A ConditionCheck would not do:
// a delete that had found the unit empty could still follow it; the count
// makes that delete fail (DeleteUnit). Writes into one unit contend for its
// item, which transact's retries absorb. Each is named unitItem(u).
func (s *Store) joinUnits(t *txn, orgID string, units []string) {
	for _, u := range units {
		t.add(unitItem(u), types.TransactWriteItem{Update: &types.Update{
			TableName: &s.table, Key: key{orgPK(orgID), unitSK(u)}.av(),
			UpdateExpression:          aws.String("ADD #j :one"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeNames:  map[string]string{"#j": "joins"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
		}})
	}
}

// missingUnits turns the joinUnits items of t that failed when err cancelled
// it into field errors.
func missingUnits(t txn, err error, units []string) error {
	var errs fault.Fields
	for i, u := range units {
		if t.failed(err, unitItem(u)) {
			errs.Add(fmt.Sprintf("units[%d]", i), string(fault.Invalid), "no such unit: "+u)
		}
	}
	return errs.Err()
}
