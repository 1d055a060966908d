package ddb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/fault"
	"onboarding/shared/importjob"
)

// CreateImport stores a new import job if its id is new.
func (s *Store) CreateImport(ctx context.Context, j importjob.Job) error {
	it, err := item(key{orgPK(j.OrgID), importSK(j.ID)}, "import", j, nil)
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if isConditionFailed(err) {
		return fault.New(fault.Conflict, "the import exists already")
	}
	if err != nil {
		return fmt.Errorf("create import %s: %w", j.ID, err)
	}
	return nil
}

// Import reads one import job, or nil.
func (s *Store) Import(ctx context.Context, orgID, id string) (*importjob.Job, error) {
	var j importjob.Job
	found, err := s.get(ctx, key{orgPK(orgID), importSK(id)}, &j)
	if err != nil || !found {
		return nil, err
	}
	return &j, nil
}

// ClaimImport starts or resumes a job (see importjob.JobStore).
func (s *Store) ClaimImport(ctx context.Context, orgID, id, objectKey, version string, leaseUntil, now time.Time) (importjob.Job, bool, error) {
	res, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key{orgPK(orgID), importSK(id)}.av(),
		UpdateExpression: aws.String("SET #st = :running, objectVersion = :v, #k = :key, leaseUntil = :lease, updatedAt = :now"),
		ConditionExpression: aws.String("attribute_exists(PK) AND (#st = :awaiting OR " +
			"(#st = :running AND objectVersion = :v AND leaseUntil < :now))"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#k": "key"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":running": str(importjob.Running), ":awaiting": str(importjob.AwaitingUpload), ":v": str(version),
			":key": str(objectKey), ":lease": str(stamp(leaseUntil)), ":now": str(stamp(now)),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		j, err := s.Import(ctx, orgID, id)
		if err != nil || j == nil {
			return importjob.Job{}, false, err
		}
		return *j, false, nil
	}
	if err != nil {
		return importjob.Job{}, false, fmt.Errorf("claim import %s: %w", id, err)
	}
	var j importjob.Job
	if err := attributevalue.UnmarshalMap(res.Attributes, &j); err != nil {
		return j, false, fmt.Errorf("unmarshal import: %w", err)
	}
	return j, true, nil
}

// SaveProgress stores a running job's counts, checkpoint, lease and
// column warnings.
func (s *Store) SaveProgress(ctx context.Context, j importjob.Job) error {
	counts, err := attributevalue.MarshalMap(j.Counts)
	if err != nil {
		return err
	}
	values := map[string]types.AttributeValue{
		":c": &types.AttributeValueMemberM{Value: counts}, ":n": num(int64(j.NextRow)), ":now": str(stamp(j.UpdatedAt)),
		":running": str(importjob.Running), ":v": str(j.Version),
	}
	update := "SET counts = :c, nextRow = :n, updatedAt = :now"
	if len(j.Parts) > 0 {
		parts, err := attributevalue.Marshal(j.Parts)
		if err != nil {
			return err
		}
		update += ", parts = :parts"
		values[":parts"] = parts
	}
	if len(j.Warnings) > 0 {
		warnings, err := attributevalue.Marshal(j.Warnings)
		if err != nil {
			return err
		}
		update += ", warnings = :w, moreWarnings = :mw"
		values[":w"], values[":mw"] = warnings, num(int64(j.MoreWarnings))
	}
	if j.LeaseUntil != nil {
		update += ", leaseUntil = :lease"
		values[":lease"] = str(stamp(*j.LeaseUntil))
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key{orgPK(j.OrgID), importSK(j.ID)}.av(),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#st = :running AND objectVersion = :v"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return fault.New(fault.Conflict, "the import is no longer running this file")
	}
	if err != nil {
		return fmt.Errorf("save progress of import %s: %w", j.ID, err)
	}
	return nil
}

// FinishImport stores a job's final state.
func (s *Store) FinishImport(ctx context.Context, j importjob.Job) error {
	j.LeaseUntil = nil
	it, err := item(key{orgPK(j.OrgID), importSK(j.ID)}, "import", j, nil)
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it})
	if err != nil {
		return fmt.Errorf("finish import %s: %w", j.ID, err)
	}
	return nil
}
