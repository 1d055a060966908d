package local

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"onboarding/infra/samtemplate"
)

func templateFunctions(t *testing.T) map[string]samtemplate.Function {
	t.Helper()
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions(samtemplate.Context{
		Parameters: map[string]any{"PublicBaseUrl": "http://127.0.0.1:3000"},
		Refs:       map[string]string{"Table": "tbl", "Bucket": "onboarding-local-files-000000000000", "SigningKey": "local"},
		Attrs:      map[string]string{},
		Pseudo: map[string]string{"AWS::StackName": "onboarding-local", "AWS::Region": Region, "AWS::AccountId": "000000000000",
			"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]samtemplate.Function{}
	for _, f := range fns {
		out[f.Name] = f
	}
	return out
}

// What each function's role allows, as the gateways see the calls its code
// makes: a transaction is checked item by item, an index by its own ARN.
func TestRolesFromTemplate(t *testing.T) {
	fns := templateFunctions(t)
	iam := NewIAM()
	ids := arns{account: "000000000000"}
	role := func(name string) *Principal { return iam.Issue(fns[name], "000000000000") }
	ddb := func(target, body string) []Call {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", "DynamoDB_20120810."+target)
		calls, err := ids.classifyDynamoDB(r, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return calls
	}
	kms := func(target, body string) []Call {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", "TrentService."+target)
		calls, err := ids.classifyKMS(r, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return calls
	}
	transaction := `{"TransactItems":[{"Put":{"TableName":"tbl"}},{"ConditionCheck":{"TableName":"tbl"}},{"Delete":{"TableName":"tbl"}}]}`
	cases := []struct {
		function string
		calls    []Call
		denied   string // the action denied, "" for allowed
	}{
		{"InviteFunction", ddb("TransactWriteItems", transaction), ""},
		{"ImportsFunction", ddb("TransactWriteItems", transaction), "dynamodb:ConditionCheckItem"},
		{"InviteFunction", ddb("Query", `{"TableName":"tbl","IndexName":"GSI1"}`), ""},
		{"InviteFunction", ddb("Query", `{"TableName":"tbl","IndexName":"InviteeIndex"}`), ""},
		{"NotifyFunction", ddb("Query", `{"TableName":"tbl","IndexName":"InviteeIndex"}`), "dynamodb:Query"},
		{"InviteFunction", ddb("Query", `{"TableName":"tbl","IndexName":"DueIndex"}`), "dynamodb:Query"},
		{"InviteFunction", ddb("Scan", `{"TableName":"tbl"}`), "dynamodb:Scan"},
		{"InviteFunction", ddb("PutItem", `{"TableName":"other"}`), "dynamodb:PutItem"},
		{"SweepFunction", ddb("BatchWriteItem", `{"RequestItems":{"tbl":[{"DeleteRequest":{}},{"PutRequest":{}}]}}`), ""},
		{"InviteFunction", ddb("BatchWriteItem", `{"RequestItems":{"tbl":[{"DeleteRequest":{}}]}}`), ""},
		{"ProvisionFunction", ddb("BatchWriteItem", `{"RequestItems":{"tbl":[{"DeleteRequest":{}}]}}`), "dynamodb:BatchWriteItem"},
		{"ProvisionFunction", ddb("BatchGetItem", `{"RequestItems":{"tbl":{}}}`), "dynamodb:BatchGetItem"},
		{"NotifyFunction", []Call{call("dynamodb:GetRecords", "arn:aws:dynamodb:"+Region+":000000000000:table/tbl/stream/2026-12-02T00:00:00.000")}, ""},
		{"InviteFunction", []Call{call("ses:SendEmail", ids.arn("ses", "identity/no-reply@example.com"), ids.arn("ses", "identity/example.com"))}, ""},
		{"AcceptFunction", []Call{call("ses:SendEmail", ids.arn("ses", "identity/example.com"))}, ""},
		{"ImportsFunction", []Call{call("ses:SendEmail", ids.arn("ses", "identity/example.com"))}, "ses:SendEmail"},
		{"SweepFunction", []Call{call("ses:GetAccount", "*")}, ""},
		{"InviteFunction", []Call{call("ses:GetAccount", "*")}, "ses:GetAccount"},
		{"IngestFunction", []Call{call("s3:GetObjectVersion", "arn:aws:s3:::onboarding-local-files-000000000000/imports/org/a.xlsx")}, ""},
		{"IngestFunction", []Call{call("s3:PutObject", "arn:aws:s3:::onboarding-local-files-000000000000/imports/org/a.xlsx")}, "s3:PutObject"},
		{"ImportsFunction", []Call{call("s3:GetObject", "arn:aws:s3:::onboarding-local-files-000000000000/reports/org/r.csv")}, ""},
		{"IngestFunction", []Call{call("lambda:InvokeFunction", ids.arn("lambda", "function:"+fns["SweepFunction"].PhysicalName))}, ""},
		// Its own name matches the wildcard written for it.
		{"IngestFunction", []Call{call("lambda:InvokeFunction", ids.arn("lambda", "function:"+fns["IngestFunction"].PhysicalName))}, ""},
		{"InviteFunction", []Call{call("lambda:InvokeFunction", ids.arn("lambda", "function:"+fns["SweepFunction"].PhysicalName))}, "lambda:InvokeFunction"},
		// Only the accept function signs access tokens; the others verify them.
		{"AcceptFunction", kms("Sign", `{"KeyId":"local"}`), ""},
		{"InviteFunction", kms("GetPublicKey", `{"KeyId":"local"}`), ""},
		{"InviteFunction", kms("Sign", `{"KeyId":"local"}`), "kms:Sign"},
		{"ImportsFunction", kms("Sign", `{"KeyId":"arn:aws:kms:`+Region+`:000000000000:key/local"}`), "kms:Sign"},
		{"SweepFunction", kms("GetPublicKey", `{"KeyId":"local"}`), "kms:GetPublicKey"},
	}
	for _, c := range cases {
		d := role(c.function).Check(c.calls)
		switch {
		case c.denied == "" && d != nil:
			t.Errorf("%s: %s on %s denied, want allowed", c.function, d.Action, d.Resource)
		case c.denied != "" && d == nil:
			t.Errorf("%s: %v allowed, want %s denied", c.function, c.calls, c.denied)
		case c.denied != "" && d.Action != c.denied:
			t.Errorf("%s: %s denied, want %s", c.function, d.Action, c.denied)
		}
	}
}

// A denied call gets AWS's error, so the function's SDK decodes it as it
// would in AWS; a call signed with keys the runner did not issue passes.
func TestGatewayAnswersAsAWS(t *testing.T) {
	fns := templateFunctions(t)
	iam := NewIAM()
	p := iam.Issue(fns["AcceptFunction"], "000000000000")
	reached := 0
	g := &gateway{service: "dynamodb", iam: iam, classify: arns{account: "000000000000"}.classifyDynamoDB,
		deny: denyJSON("com.amazon.coral.service#", http.StatusBadRequest), forwardAs: "local", now: time.Now,
		log: discardLogger(), next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached++
			if reached < 2 && !strings.Contains(r.Header.Get("Authorization"), "Credential=local/") {
				t.Errorf("forwarded with %q", r.Header.Get("Authorization"))
			}
		})}
	send := func(key, target, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", "DynamoDB_20120810."+target)
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20261202/"+Region+"/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		return w
	}
	w := send(p.AccessKey, "Scan", `{"TableName":"tbl"}`)
	if w.Code != 400 || reached != 0 {
		t.Fatalf("denied Scan: %d, reached %d", w.Code, reached)
	}
	var body struct {
		Type    string `json:"__type"`
		Message string
	}
	json.Unmarshal(w.Body.Bytes(), &body)
	want := "User: arn:aws:sts::000000000000:assumed-role/" + fns["AcceptFunction"].RoleName + "/" + fns["AcceptFunction"].PhysicalName +
		" is not authorized to perform: dynamodb:Scan on resource: arn:aws:dynamodb:" + Region + ":000000000000:table/tbl" +
		" because no identity-based policy allows the dynamodb:Scan action"
	if body.Type != "com.amazon.coral.service#AccessDeniedException" || body.Message != want {
		t.Fatalf("denial %+v\nwant message %s", body, want)
	}
	if w := send(p.AccessKey, "GetItem", `{"TableName":"tbl"}`); w.Code != 200 || reached != 1 {
		t.Fatalf("allowed GetItem: %d, reached %d", w.Code, reached)
	}
	if w := send("AKIADEVELOPER", "Scan", `{"TableName":"tbl"}`); w.Code != 200 || reached != 2 {
		t.Fatalf("a developer's key: %d, reached %d", w.Code, reached)
	}
}

// An expired presigned URL is refused, whoever signed it.
func TestPresignedURLExpires(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	g := &gateway{service: "s3", iam: NewIAM(), now: func() time.Time { return now }, log: discardLogger(),
		next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"X-Amz-Date=20261202T115000Z&X-Amz-Expires=900", 200},
		{"X-Amz-Date=20261202T114000Z&X-Amz-Expires=900", 403},
		{"X-Amz-Date=20261202T115000Z&X-Amz-Expires=0", 403},
		{"X-Amz-Date=nonsense&X-Amz-Expires=900", 403},
	} {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest("PUT", "/bucket/imports/a.csv?X-Amz-Credential=AKIAX%2F20261202%2F"+Region+"%2Fs3%2Faws4_request&"+c.query, nil))
		if w.Code != c.want {
			t.Errorf("%s: %d, want %d (%s)", c.query, w.Code, c.want, w.Body)
		}
		if c.want == 403 && !strings.Contains(w.Body.String(), "<Code>AccessDenied</Code>") {
			t.Errorf("%s: body %s", c.query, w.Body)
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// An explicit Deny wins over an Allow, and AWS says which it was.
func TestExplicitDenyWins(t *testing.T) {
	p := &Principal{SessionARN: "arn:aws:sts::000000000000:assumed-role/r/f", Statements: []samtemplate.Statement{
		{Effect: "Allow", Actions: []string{"s3:*"}, Resources: []string{"*"}},
		{Effect: "Deny", Actions: []string{"s3:DeleteObject"}, Resources: []string{"arn:aws:s3:::b/*"}},
	}}
	if d := p.Check([]Call{call("s3:GetObject", "arn:aws:s3:::b/k")}); d != nil {
		t.Fatalf("GetObject denied: %s", d.Message())
	}
	d := p.Check([]Call{call("s3:DeleteObject", "arn:aws:s3:::b/k")})
	if d == nil || !d.ExplicitDeny || !strings.HasSuffix(d.Message(), "with an explicit deny in an identity-based policy") {
		t.Fatalf("DeleteObject: %+v", d)
	}
}

// An unsigned request is refused as AWS refuses it (the bucket blocks
// public access), before it reaches the emulator.
func TestUnsignedRequestsAreRefused(t *testing.T) {
	reached := false
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true })
	for _, service := range []string{"s3", "dynamodb", "ses"} {
		g := &gateway{service: service, iam: NewIAM(), now: time.Now, log: discardLogger(), next: next}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest("PUT", "/bucket/imports/org/a.csv", strings.NewReader("x")))
		if reached || w.Code < 400 {
			t.Errorf("%s: an unsigned request got %d, reached the emulator: %v", service, w.Code, reached)
		}
	}
}
