package ddb

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/audit"
)

// DefaultAuditRetention is how long audit entries live unless configured.
const DefaultAuditRetention = 365 * 24 * time.Hour

// recordAudit is the Put that writes e inside a change's transaction.
func (s *Store) recordAudit(e audit.Entry) (types.TransactWriteItem, error) {
	retention := s.AuditRetention
	if retention <= 0 {
		retention = DefaultAuditRetention
	}
	it, err := item(key{orgPK(e.OrgID), auditSK(e.At, e.ID)}, "audit", e, map[string]types.AttributeValue{
		attrTTL: num(e.At.Add(retention).Unix()),
	})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}}, nil
}

// withAudit adds e's Put to a change's transaction.
func (s *Store) withAudit(t *txn, e audit.Entry) error {
	put, err := s.recordAudit(e)
	if err != nil {
		return err
	}
	t.add(auditItem, put)
	return nil
}

// AuditTrail returns a page of an organisation's audit entries, newest first.
func (s *Store) AuditTrail(ctx context.Context, orgID string, limit int, cursor string) ([]audit.Entry, string, error) {
	start, err := decodeCursor(cursor, map[string]string{attrPK: orgPK(orgID)}, map[string]string{attrSK: auditPrefix})
	if err != nil {
		return nil, "", err
	}
	expr, err := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrPK).Equal(expression.Value(orgPK(orgID))).And(expression.Key(attrSK).BeginsWith(auditPrefix))).Build()
	if err != nil {
		return nil, "", err
	}
	return queryPage[audit.Entry](ctx, s, &dynamodb.QueryInput{
		TableName: &s.table, Limit: aws.Int32(int32(limit)), ScanIndexForward: aws.Bool(false), ExclusiveStartKey: start,
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}, "audit of "+orgID)
}
