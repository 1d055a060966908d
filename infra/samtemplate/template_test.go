package samtemplate

import (
	"fmt"
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
	if len(byName["accept"].Routes) != 6 {
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

// Every function that builds links reads PUBLIC_BASE_URL, and the template
// always gives it one: the PublicBaseUrl parameter, or when that is empty
// the API's own URL (never a request's headers).
func TestEveryFunctionGetsAPublicBaseURL(t *testing.T) {
	tpl := load(t)
	for _, name := range []string{"ProvisionFunction", "InviteFunction", "AcceptFunction", "IngestFunction", "SweepFunction"} {
		env, _ := tpl.Resources[name].Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		v, ok := vars["PUBLIC_BASE_URL"].(map[string]any)
		args, _ := v["Fn::If"].([]any)
		if !ok || len(args) != 3 || args[0] != "NoPublicBaseUrl" {
			t.Errorf("%s: PUBLIC_BASE_URL is %v, want !If [NoPublicBaseUrl, the API's URL, !Ref PublicBaseUrl]", name, vars["PUBLIC_BASE_URL"])
			continue
		}
		apiURL, _ := args[1].(map[string]any)
		ref, _ := args[2].(map[string]any)
		if !strings.Contains(fmt.Sprint(apiURL["Fn::Sub"]), "${HttpApi}.execute-api.") || ref["Ref"] != "PublicBaseUrl" {
			t.Errorf("%s: PUBLIC_BASE_URL is %v", name, args)
		}
	}
}
