package ddb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
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

// The items of the transactions that open and end an import: the job and
// its organisation's places.
const (
	jobItem    = "job"
	placesItem = "places"
)

// OpenImport stores a new import job in one of its organisation's places
// (see importjob.JobStore). The places are a set of import ids on one item
// per organisation: a job is put only with its id added, on condition the
// set holds fewer than limit, so parallel requests take exactly limit. An
// awaiting job enters the Due index at its StaleAt, for the stale-import
// step should its upload never come.
func (s *Store) OpenImport(ctx context.Context, j importjob.Job, limit int) (bool, error) {
	extra := map[string]types.AttributeValue{}
	if j.StaleAt != nil {
		extra[attrDuePK], extra[attrDueSK] = str(pkStaleImports), str(staleImportSK(*j.StaleAt, j.OrgID, j.ID))
	}
	it, err := item(key{orgPK(j.OrgID), importSK(j.ID)}, "import", j, extra)
	if err != nil {
		return false, err
	}
	var t txn
	t.add(jobItem, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	t.add(placesItem, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: importPlacesKey(j.OrgID).av(),
		UpdateExpression:          aws.String("ADD #imports :id SET #type = :type"),
		ConditionExpression:       aws.String("attribute_not_exists(#imports) OR size(#imports) < :limit"),
		ExpressionAttributeNames:  map[string]string{"#imports": attrPlaces, "#type": attrType},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberSS{Value: []string{j.ID}}, ":limit": num(int64(limit)), ":type": str("importPlaces")},
	}})
	err = s.transact(ctx, t)
	switch {
	case t.failed(err, placesItem):
		return false, nil
	case t.failed(err, jobItem):
		return false, fault.New(fault.Conflict, "the import exists already")
	}
	if err != nil {
		return false, fmt.Errorf("open import %s: %w", j.ID, err)
	}
	return true, nil
}

// freePlace is the transaction item that gives an ended job's place back
// to its organisation, in the transaction that ends the job, so it happens
// once. Deleting an id the set lacks changes nothing (a job from before
// places existed); a file dropped into the bucket (no uploader) never
// holds one, and its organisation needs no places item.
func (s *Store) freePlace(j importjob.Job) []types.TransactWriteItem {
	if j.UploadedBy == "" {
		return nil
	}
	return []types.TransactWriteItem{{Update: &types.Update{TableName: &s.table, Key: importPlacesKey(j.OrgID).av(),
		UpdateExpression:          aws.String("DELETE #imports :id"),
		ExpressionAttributeNames:  map[string]string{"#imports": attrPlaces},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberSS{Value: []string{j.ID}}},
	}}}
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

// ClaimImport starts or resumes a job (see importjob.JobStore). The job
// enters the Due index at its lease's end: if the run dies, the
// stale-import step finds it there.
func (s *Store) ClaimImport(ctx context.Context, orgID, id string, c importjob.Claim) (importjob.Job, bool, error) {
	values := map[string]types.AttributeValue{
		":running": str(importjob.Running), ":awaiting": str(importjob.AwaitingUpload), ":v": str(c.Version),
		":key": str(c.Key), ":lease": str(stamp(c.Until)), ":now": str(stamp(c.Now)), ":size": num(c.Size),
		":duepk": str(pkStaleImports), ":duesk": str(staleImportSK(c.Until, orgID, id)),
	}
	update := "SET #st = :running, objectVersion = :v, #k = :key, leaseUntil = :lease, staleAt = :lease, updatedAt = :now, " +
		"objectSize = :size, DuePK = :duepk, DueSK = :duesk"
	remove := []string{}
	for name, v := range map[string]string{"objectVersionId": c.VersionID, "runner": c.Runner} {
		if v == "" {
			remove = append(remove, name)
			continue
		}
		update += ", " + name + " = :" + name
		values[":"+name] = str(v)
	}
	if len(remove) > 0 {
		slices.Sort(remove)
		update += " REMOVE " + strings.Join(remove, ", ")
	}
	res, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key{orgPK(orgID), importSK(id)}.av(),
		UpdateExpression: aws.String(update),
		ConditionExpression: aws.String("attribute_exists(PK) AND (#st = :awaiting OR " +
			"(#st = :running AND objectVersion = :v AND leaseUntil < :now))"),
		ExpressionAttributeNames:  map[string]string{"#st": "status", "#k": "key"},
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
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

// SaveProgress stores a running job's counts, checkpoint, lease, column
// warnings and the time it is stale at (a handover moves it in the Due index).
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
	if j.StaleAt != nil {
		update += ", staleAt = :stale, DuePK = :duepk, DueSK = :duesk"
		values[":stale"], values[":duepk"] = str(stamp(*j.StaleAt)), str(pkStaleImports)
		values[":duesk"] = str(staleImportSK(*j.StaleAt, j.OrgID, j.ID))
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

// FinishImport stores a job's final state, out of the Due index, and
// gives its place back, if it is still running the same version (a job the
// stale-import step gave up stays failed, its place given back then).
func (s *Store) FinishImport(ctx context.Context, j importjob.Job) error {
	j.LeaseUntil, j.StaleAt = nil, nil
	it, err := item(key{orgPK(j.OrgID), importSK(j.ID)}, "import", j, nil)
	if err != nil {
		return err
	}
	var t txn
	t.add(jobItem, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it,
		ConditionExpression:      aws.String("#st = :running AND objectVersion = :v"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":running": str(importjob.Running), ":v": str(j.Version),
		}}})
	t.add(placesItem, s.freePlace(j)...)
	err = s.transact(ctx, t)
	if t.failed(err, jobItem) {
		return fault.New(fault.Conflict, "the import is no longer running this file")
	}
	if err != nil {
		return fmt.Errorf("finish import %s: %w", j.ID, err)
	}
	return nil
}

// staleImportsPage is how many stale imports one Query returns at most.
const staleImportsPage = 100

// StaleImports lists the running imports stale at now, the stalest first
// (see importjob.StaleStore). The index projects whole items.
func (s *Store) StaleImports(ctx context.Context, now time.Time, limit int) ([]importjob.Job, error) {
	kc := expression.Key(attrDuePK).Equal(expression.Value(pkStaleImports)).
		And(expression.Key(attrDueSK).LessThan(expression.Value(dueBy(now))))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, fmt.Errorf("build stale imports query: %w", err)
	}
	var out []importjob.Job
	var start map[string]types.AttributeValue
	for len(out) < limit {
		res, err := s.client.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(IndexDue), ExclusiveStartKey: start,
			Limit:                  aws.Int32(int32(min(limit-len(out), staleImportsPage))),
			KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		})
		if err != nil {
			return nil, fmt.Errorf("query stale imports: %w", err)
		}
		var page []importjob.Job
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &page); err != nil {
			return nil, fmt.Errorf("unmarshal stale imports: %w", err)
		}
		out = append(out, page...)
		if start = res.LastEvaluatedKey; start == nil {
			break
		}
	}
	return out, nil
}

// staleAsSeen is the condition that a job is still as seen: in the same
// status (running the same version) and stale at the same time. Every
// claim, handover, resume and postponement moves StaleAt later.
func staleAsSeen(seen importjob.Job) (string, map[string]types.AttributeValue) {
	var at string
	if seen.StaleAt != nil {
		at = stamp(*seen.StaleAt)
	}
	values := map[string]types.AttributeValue{":seenStatus": str(seen.Status), ":seen": str(at)}
	if seen.Status != importjob.Running {
		return "#st = :seenStatus AND staleAt = :seen", values
	}
	values[":v"] = str(seen.Version)
	return "#st = :seenStatus AND objectVersion = :v AND staleAt = :seen", values
}

// ResumeImport counts a resume of a stale job and makes it stale again at
// next (see importjob.StaleStore).
func (s *Store) ResumeImport(ctx context.Context, seen importjob.Job, next time.Time) (bool, error) {
	return s.staleAgain(ctx, seen, next, true)
}

// FailStaleImport gives a stale job up, and its place back (see
// importjob.StaleStore).
func (s *Store) FailStaleImport(ctx context.Context, seen, failed importjob.Job) (bool, error) {
	cond, values := staleAsSeen(seen)
	values[":failed"], values[":msg"], values[":now"] = str(failed.Status), str(failed.Message), str(stamp(failed.UpdatedAt))
	update := "SET #st = :failed, #msg = :msg, updatedAt = :now"
	if failed.FinishedAt != nil {
		update += ", finishedAt = :fin"
		values[":fin"] = str(stamp(*failed.FinishedAt))
	}
	var t txn
	t.add(jobItem, types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key{orgPK(seen.OrgID), importSK(seen.ID)}.av(),
		UpdateExpression:          aws.String(update + " REMOVE leaseUntil, staleAt, DuePK, DueSK"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#st": "status", "#msg": "message"},
		ExpressionAttributeValues: values,
	}})
	t.add(placesItem, s.freePlace(seen)...)
	err := s.transact(ctx, t)
	if t.failed(err, jobItem) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("fail import %s: %w", seen.ID, err)
	}
	return true, nil
}

// PostponeImport makes a job awaiting its upload stale again at next (see
// importjob.StaleStore).
func (s *Store) PostponeImport(ctx context.Context, seen importjob.Job, next time.Time) (bool, error) {
	return s.staleAgain(ctx, seen, next, false)
}

// staleAgain moves a stale job, if still as seen, to next in the Due index,
// counting a resume when it is one.
func (s *Store) staleAgain(ctx context.Context, seen importjob.Job, next time.Time, resume bool) (bool, error) {
	cond, values := staleAsSeen(seen)
	values[":next"], values[":duesk"] = str(stamp(next)), str(staleImportSK(next, seen.OrgID, seen.ID))
	update, what := "SET staleAt = :next, DueSK = :duesk", "postpone"
	if resume {
		update, what = update+" ADD resumes :one", "resume"
		values[":one"] = num(1)
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key{orgPK(seen.OrgID), importSK(seen.ID)}.av(),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s import %s: %w", what, seen.ID, err)
	}
	return true, nil
}
