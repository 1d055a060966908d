package samtemplate

import (
	"strings"
	"testing"
)

func load(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func localContext() Context {
	return Context{
		Parameters: map[string]any{"PublicBaseUrl": "http://127.0.0.1:3000"},
		Refs:       map[string]string{"Table": "local-table", "SigningKey": "local-key", "Bucket": "local-bucket"},
		Attrs:      map[string]string{},
		Pseudo:     map[string]string{"AWS::StackName": "onboarding-local", "AWS::Region": "eu-north-1", "AWS::AccountId": "000000000000", "AWS::Partition": "aws"},
	}
}

func TestFunctionsFromTemplate(t *testing.T) {
	tpl := load(t)
	fns, err := tpl.Functions(localContext())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Function{}
	for _, f := range fns {
		byName[f.Dir] = f
	}
	for _, want := range []string{"provision", "invite", "accept"} {
		if _, ok := byName[want]; !ok {
			t.Fatalf("function %s missing; have %v", want, byName)
		}
	}
	inv := byName["invite"]
	if inv.Environment["TABLE_NAME"] != "local-table" || inv.Environment["PUBLIC_BASE_URL"] != "http://127.0.0.1:3000" {
		t.Fatalf("invite env %v", inv.Environment)
	}
	if byName["accept"].Environment["TOKEN_ISSUER"] != "urn:onboarding:onboarding-local" {
		t.Fatalf("Sub not resolved: %v", byName["accept"].Environment)
	}
	if byName["accept"].MemoryMB != 1024 || inv.MemoryMB != 256 || inv.TimeoutSec != 10 {
		t.Fatalf("memory/timeout from globals wrong: %d %d %d", byName["accept"].MemoryMB, inv.MemoryMB, inv.TimeoutSec)
	}
	var found bool
	for _, r := range inv.Routes {
		if r.Key() == "POST /orgs/{orgId}/invitations" {
			found = true
		}
	}
	if !found {
		t.Fatalf("invite routes %v", inv.Routes)
	}
	if len(byName["accept"].Routes) != 8 {
		t.Fatalf("accept routes %v", byName["accept"].Routes)
	}
	sweep := byName["sweep"]
	if len(sweep.Schedules) != 1 || sweep.Schedules[0].Expression != "rate(15 minutes)" ||
		!strings.Contains(sweep.Schedules[0].Input, "<aws.scheduler.scheduled-time>") {
		t.Fatalf("sweep schedules %+v", sweep.Schedules)
	}
	if sweep.TimeoutSec != 240 || sweep.Environment["PUBLIC_BASE_URL"] != "http://127.0.0.1:3000" {
		t.Fatalf("sweep %d %v", sweep.TimeoutSec, sweep.Environment)
	}
}

func TestTableFromTemplate(t *testing.T) {
	tbl, err := load(t).Table("Table", "t1")
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Create.KeySchema) != 2 || len(tbl.Create.GlobalSecondaryIndexes) != 2 || tbl.TTLAttribute != "ttl" {
		t.Fatalf("table %+v ttl=%q", tbl.Create, tbl.TTLAttribute)
	}
	if tbl.Create.StreamSpecification == nil || tbl.Create.StreamSpecification.StreamViewType != "NEW_AND_OLD_IMAGES" {
		t.Fatal("stream spec missing")
	}
}

// Conditions are evaluated with the parameters, and AWS::NoValue drops the
// property: the ingest function's reserved concurrency follows its parameter.
func TestConditionsAndReservedConcurrency(t *testing.T) {
	tpl := load(t)
	reserved := func(params map[string]any) int {
		c := localContext()
		c.Parameters = params
		fns, err := tpl.Functions(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fns {
			if f.Name == "IngestFunction" {
				return f.ReservedConcurrency
			}
		}
		t.Fatal("no IngestFunction")
		return 0
	}
	if got := reserved(map[string]any{}); got != 5 {
		t.Errorf("default: reserved %d, want 5", got)
	}
	if got := reserved(map[string]any{"IngestConcurrency": 2}); got != 2 {
		t.Errorf("IngestConcurrency=2: reserved %d", got)
	}
	if got := reserved(map[string]any{"IngestConcurrency": 0}); got != 0 {
		t.Errorf("IngestConcurrency=0: reserved %d, want none", got)
	}
}

// IAM wildcards: * runs across colons and slashes, ? is one character,
// actions compare without regard to case.
func TestStatementMatches(t *testing.T) {
	s := Statement{Effect: "Allow", Actions: []string{"dynamodb:Get*", "S3:PutObject"},
		Resources: []string{"arn:aws:dynamodb:*:*:table/t", "arn:aws:s3:::b/imports/*", "arn:aws:lambda:r:1:function:stack-Ingest-????"}}
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"dynamodb:GetItem", "arn:aws:dynamodb:eu-north-1:000000000000:table/t", true},
		{"DynamoDB:getitem", "arn:aws:dynamodb:eu-north-1:000000000000:table/t", true},
		{"dynamodb:GetItem", "arn:aws:dynamodb:eu-north-1:000000000000:table/t/index/GSI1", false},
		{"dynamodb:PutItem", "arn:aws:dynamodb:eu-north-1:000000000000:table/t", false},
		{"s3:PutObject", "arn:aws:s3:::b/imports/org/a/b.csv", true},
		{"s3:PutObject", "arn:aws:s3:::b/reports/x", false},
		{"dynamodb:GetItem", "arn:aws:lambda:r:1:function:stack-Ingest-ABCD", true}, // every action on every resource listed
		{"s3:PutObject", "arn:aws:lambda:r:1:function:stack-Ingest-ABCD", true},
		{"s3:PutObject", "arn:aws:lambda:r:1:function:stack-Ingest-ABCDE", false},
	} {
		if got := s.Matches(c.action, c.resource); got != c.want {
			t.Errorf("%s on %s: %v, want %v", c.action, c.resource, got, c.want)
		}
	}
	not := Statement{Effect: "Allow", NotActions: []string{"iam:*"}, Resources: []string{"*"}}
	if !not.Matches("s3:GetObject", "x") || not.Matches("iam:PassRole", "x") {
		t.Error("NotAction")
	}
}
