package ddb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/monitor"
)

// MonitoringProfile reads a member's monitoring profile, or nil.
func (s *Store) MonitoringProfile(ctx context.Context, orgID, userID string) (*monitor.Record, error) {
	var r monitor.Record
	found, err := s.get(ctx, key{orgPK(orgID), monitorSK(userID)}, &r)
	if err != nil || !found {
		return nil, err
	}
	return &r, nil
}

// PutMonitoringProfile stores a profile in one transaction with its audit
// entry, if the stored version is the one before r's and the member exists.
func (s *Store) PutMonitoringProfile(ctx context.Context, r monitor.Record, e audit.Entry) error {
	it, err := item(key{orgPK(r.OrgID), monitorSK(r.UserID)}, "monitoring", r, nil)
	if err != nil {
		return err
	}
	put := &types.Put{TableName: &s.table, Item: it, ConditionExpression: aws.String("attribute_not_exists(PK)")}
	if r.Version > 1 {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(int64(r.Version - 1))}
	}
	var t txn
	t.add("monitoring", types.TransactWriteItem{Put: put})
	t.add(memberItem, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key{orgPK(r.OrgID), memberSK(r.UserID)}.av(),
		ConditionExpression: aws.String("attribute_exists(PK)")}})
	if err := s.withAudit(&t, e); err != nil {
		return err
	}
	err = s.transact(ctx, t)
	switch {
	case t.failed(err, "monitoring"):
		return fault.New(fault.Conflict, "the profile changed meanwhile; reload it")
	case t.failed(err, memberItem):
		return fault.New(fault.NotFound, "no such member")
	}
	if err != nil {
		return fmt.Errorf("put monitoring profile of %s: %w", r.UserID, err)
	}
	return nil
}
