package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"onboarding/infra/local"
	"onboarding/infra/testenv"
	"onboarding/shared/ddb"
	"onboarding/shared/invite"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

// When AWS refuses (DynamoDB throttles, a guard's condition fails, an SDK
// error quotes the request, SES rejects a recipient, S3 fails a read) the
// functions log the failure, and still no email address, phone number,
// token or password reaches a log line: not in the 500's log, the sweep's
// or the ingest's, nor in an error a function returns.
func TestFailuresLeakNothingToLogs(t *testing.T) {
	s, logs := StackWithLogs(t)
	id := testenv.RandomID()
	email := func(name string) string { return name + "-" + id + "@example.no" }
	adminEmail := email("ada")
	orgID := Provision(t, s, "Leak Care "+id, adminEmail)
	const password = "admin passphrase long"
	admin := signUp(t, s, adminEmail, password, 1)
	adminToken := InvitationToken(t, adminEmail, 1)
	ctx := context.Background()

	dynamo := func(op string, match func(body string) bool, fault local.Fault) func() {
		return s.Inject("dynamodb", func(r *http.Request, body []byte) local.Fault {
			if r.Header.Get("X-Amz-Target") == "DynamoDB_20120810."+op && match(string(body)) {
				return fault
			}
			return nil
		})
	}
	throttle := local.DynamoDBError("ProvisionedThroughputExceededException",
		"The level of configured provisioned throughput for the table was exceeded.", nil)
	contains := func(parts ...string) func(string) bool {
		return func(body string) bool {
			for _, p := range parts {
				if !strings.Contains(body, p) {
					return false
				}
			}
			return true
		}
	}
	// The contract leaves 500s undeclared, so these calls skip its check.
	call := func(path, token string, body any, want int) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, s.APIURL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("POST %s: %d, want %d", path, res.StatusCode, want)
		}
	}
	invitation := func(to, phone string, want int) {
		t.Helper()
		call("/orgs/"+orgID+"/invitations", admin.token, map[string]any{
			"email": to, "firstName": "Kari", "lastName": "Nordmann", "phone": phone, "role": "member"}, want)
	}

	// Sign-in while DynamoDB throttles the read of the address's throttle
	// item (SIGNIN#<email>): a 500.
	remove := dynamo("GetItem", contains(`"SIGNIN#`), throttle)
	call("/auth/sign-in", "", map[string]string{"email": adminEmail, "password": password}, 500)
	remove()

	// The recipient's rate counter (QUOTA#...#recipient#<email>) throttled.
	remove = dynamo("GetItem", contains(`"QUOTA#`, "recipient#"), throttle)
	invitation(email("w1"), "915 12 341", 500)
	remove()

	// An SDK error that quotes the request (address and phone number).
	remove = dynamo("TransactWriteItems", contains(email("w2")), local.DynamoDBError("ValidationException",
		"One or more parameter values were invalid: "+email("w2")+" +4791512342 tel. 915 12 342", nil))
	invitation(email("w2"), "915 12 342", 500)
	remove()

	// The pending guard's condition fails (the reason carries the item),
	// and reading the guard that failed it is throttled.
	removeGuard := s.Inject("dynamodb", func(r *http.Request, body []byte) local.Fault {
		if r.Header.Get("X-Amz-Target") != "DynamoDB_20120810.TransactWriteItems" || !bytes.Contains(body, []byte("PENDING#"+email("w3"))) {
			return nil
		}
		var in struct{ TransactItems []json.RawMessage }
		json.Unmarshal(body, &in)
		var reasons []map[string]any
		codes := []string{}
		for _, it := range in.TransactItems {
			if bytes.Contains(it, []byte("PENDING#")) {
				reasons = append(reasons, map[string]any{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
					"Item": map[string]any{"PK": map[string]string{"S": "ORG#" + orgID}, "SK": map[string]string{"S": "PENDING#" + email("w3")}}})
				codes = append(codes, "ConditionalCheckFailed")
			} else {
				reasons = append(reasons, map[string]any{"Code": "None"})
				codes = append(codes, "None")
			}
		}
		return local.DynamoDBError("TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons for specific reasons ["+
			strings.Join(codes, ", ")+"]", map[string]any{"CancellationReasons": reasons})
	})
	remove = dynamo("GetItem", contains("PENDING#"+email("w3")), throttle)
	invitation(email("w3"), "915 12 343", 500)
	remove()
	removeGuard()
	// And a real one: the same person invited twice.
	invitation(email("w4"), "915 12 344", 201)
	invitation(email("w4"), "915 12 344", 409)

	// SES refuses a recipient, naming them, as SES does.
	rejectTo := func(to string) func() {
		return s.Inject("ses", func(r *http.Request, body []byte) local.Fault {
			if !bytes.Contains(body, []byte(to)) {
				return nil
			}
			return local.SESError(400, "MessageRejected",
				"Email address is not verified. The following identities failed the check in region EU-NORTH-1: "+to)
		})
	}
	remove = rejectTo(email("w5"))
	var sent struct {
		DeliveryStatus string `json:"deliveryStatus"`
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{
		"email": email("w5"), "phone": "915 12 345", "role": "member"}, &sent), 201)
	if sent.DeliveryStatus != "failed" {
		t.Fatalf("delivery %q with SES refusing", sent.DeliveryStatus)
	}
	remove()

	// Invalid addresses: refused by the API, and by provisioning.
	invitation("w6-"+id+"@@example.no", "915 12 346", 422)
	payload, _ := json.Marshal(map[string]string{"name": "Bad " + id, "adminEmail": "w6-" + id + "@example..no"})
	if status, out, fnErr := invoke(t, s.InvokeURL, "ProvisionFunction", payload); status != 200 || !fnErr {
		t.Fatalf("provisioning for an invalid address: %d %s", status, out)
	}

	// The sweep reminds someone SES refuses.
	var me struct {
		UserID string `json:"userId"`
	}
	mustStatus(t, admin.Call("GET", "/me", nil, &me), 200)
	now := time.Now().UTC().Truncate(time.Second)
	_, hash, _ := opaque.New()
	remindAt := now.Add(-time.Minute)
	due := invite.Invitation{
		ID: invite.NewSortableID(now), OrgID: orgID, OrgName: "Leak Care " + id, Email: email("w7"), Phone: "+4791512347",
		FirstName: "P", Language: "nb", Role: "member", Units: []string{}, Attributes: org.Attributes{},
		Status: invite.Pending, DeliveryStatus: invite.DeliverySent, InvitedBy: me.UserID, InviterName: "Ada",
		TokenHash: hash, ExpiresAt: now.Add(48 * time.Hour), RemindAt: &remindAt,
	}
	if err := ddb.New(testenv.DynamoDBClient(), s.Table, time.Now).LoadInvitations(ctx, testenv.DynamoDBClient(), []invite.Invitation{due}, true); err != nil {
		t.Fatal(err)
	}
	remove = rejectTo(email("w7"))
	status, out, _ := invoke(t, s.InvokeURL, "SweepFunction", readEvent(t, "schedule-sweep.json"))
	var report invite.SweepReport
	if json.Unmarshal(out, &report); status != 200 || report.SendFailures == 0 {
		t.Fatalf("sweep with SES refusing: %d %s", status, out)
	}
	remove()

	// Rosters dropped into the bucket under names holding an address: one
	// whose read S3 fails, one at a key the ingest cannot place.
	remove = s.Inject("s3", func(r *http.Request, _ []byte) local.Fault {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/imports/") {
			return local.S3Error(http.StatusForbidden, "AccessDenied", "Access Denied")
		}
		return nil
	})
	defer remove()
	for _, key := range []string{"imports/" + orgID + "/" + email("w8") + ".csv", "imports/" + email("w9") + ".csv"} {
		// Dropped by someone with the account's own credentials.
		if _, err := testenv.S3Client(s.S3URL).PutObject(context.Background(), &s3.PutObjectInput{Bucket: &s.Bucket, Key: aws.String(key),
			Body: strings.NewReader("E-post\r\n" + email("w10") + "\r\n")}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(logs.String(), `"msg":"import failed"`) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the ingest did not fail twice:\n%s", logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the runner's own line after each

	all := logs.String()
	for _, want := range []string{`"msg":"request failed"`, `"msg":"sweep could not send"`, `"msg":"provision failed"`} {
		if !strings.Contains(all, want) {
			t.Errorf("no %s line: the failure path was not taken", want)
		}
	}
	secrets := map[string]string{"password": password, "invitation token": adminToken, "access token": admin.token}
	for _, name := range []string{"ada", "w1", "w2", "w3", "w4", "w5", "w7", "w8", "w9"} {
		secrets["address "+name] = email(name)
	}
	for what, secret := range secrets {
		if strings.Contains(all, secret) {
			t.Errorf("the logs contain the %s", what)
		}
	}
	for _, line := range strings.Split(all, "\n") {
		for _, re := range leaks {
			if m := re.FindString(line); m != "" {
				t.Errorf("%q in a log line: %s", m, line)
			}
		}
	}
}

// leaks are what may not appear in any log line: an unmasked address (the
// test's own domain), a phone number of the test's, as stored or typed.
var leaks = []*regexp.Regexp{
	regexp.MustCompile(`[A-Za-z0-9._%+-]+@(@|)example\.(no|\.no)`),
	regexp.MustCompile(`\+479151234\d|9151234\d|915 12 34\d`),
}
