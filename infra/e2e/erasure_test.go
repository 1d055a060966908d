package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onboarding/infra/testenv"
)

// Export and erasure through the runner: a worker downloads what is held
// about them, an admin erases another member, the worker erases
// themselves; each erased person can no longer sign in, the monitoring
// partner is told worker.removed, and the audit trail keeps the events
// under pseudonyms.
func TestExportAndErasureThroughRunner(t *testing.T) {
	s, logs := StackWithLogs(t, withStream)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Erasure Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	anon := &Client{t: t, base: s.APIURL}
	recv := testenv.NewReceiver(t, "")
	var saved struct {
		Secret string `json:"secret"`
	}
	mustStatus(t, admin.Call("PUT", "/orgs/"+orgID+"/partners/vakt", map[string]any{
		"name": "Vakt 24", "webhook": map[string]string{"url": recv.URL}}, &saved), 201)
	recv.Trust(saved.Secret)

	kari, bob := "kari-"+id+"@example.no", "bob-"+id+"@example.no"
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": kari, "role": "member", "phone": "915 12 345"}, nil), 201)
	worker := signUp(t, s, kari, "worker passphrase long", 1)
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": bob, "role": "member"}, nil), 201)
	other := signUp(t, s, bob, "bob's passphrase long", 1)
	recv.WaitForEvents(t, 2, 20*time.Second)
	var kariMe, bobMe struct {
		UserID string `json:"userId"`
	}
	mustStatus(t, worker.Call("GET", "/me", nil, &kariMe), 200)
	mustStatus(t, other.Call("GET", "/me", nil, &bobMe), 200)

	// The export: one file with the account, memberships, invitations and
	// the audit entries about her; never the password hash.
	var doc struct {
		Account struct {
			Email string `json:"email"`
		} `json:"account"`
		Memberships []struct {
			OrgID string `json:"orgId"`
		} `json:"memberships"`
		Invitations  []json.RawMessage `json:"invitations"`
		Sessions     []json.RawMessage `json:"sessions"`
		AuditEntries []struct {
			Action string `json:"action"`
		} `json:"auditEntries"`
		Partners []struct {
			PartnerID string                     `json:"partnerId"`
			Present   bool                       `json:"present"`
			Worker    map[string]json.RawMessage `json:"worker"`
		} `json:"partners"`
	}
	res := worker.Call("GET", "/me/export", nil, &doc)
	mustStatus(t, res, 200)
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if doc.Account.Email != kari || len(doc.Memberships) != 1 || doc.Memberships[0].OrgID != orgID || len(doc.Invitations) != 1 || len(doc.AuditEntries) < 2 {
		t.Errorf("export: %+v", doc)
	}
	if len(doc.Partners) != 1 || doc.Partners[0].PartnerID != "vakt" || !doc.Partners[0].Present || !strings.Contains(string(doc.Partners[0].Worker["userName"]), kari) {
		t.Errorf("export of what the partner was told: %+v", doc.Partners)
	}

	// An admin erases bob; a misspelt flag is named back and does nothing.
	var p problem
	mustStatus(t, admin.Call("DELETE", "/orgs/"+orgID+"/members/"+bobMe.UserID+"?erasse=true", nil, &p), 422)
	if len(p.Errors) != 1 || p.Errors[0].Field != "erasse" {
		t.Errorf("misspelt flag: %+v", p)
	}
	mustStatus(t, other.Call("DELETE", "/orgs/"+orgID+"/members/"+kariMe.UserID+"?erase=true", nil, nil), 403)
	mustStatus(t, admin.Call("DELETE", "/orgs/"+orgID+"/members/"+bobMe.UserID+"?erase=true", nil, nil), 204)
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": bob, "password": "bob's passphrase long"}, nil), 401)

	// Kari erases herself: the password again, strictly.
	mustStatus(t, worker.Call("DELETE", "/me", map[string]string{"password": "not my passphrase"}, nil), 422)
	mustStatus(t, worker.Call("DELETE", "/me", map[string]string{"password": "worker passphrase long", "reason": "x"}, nil), 422)
	mustStatus(t, worker.Call("DELETE", "/me", map[string]string{"password": "worker passphrase long"}, nil), 204)
	mustStatus(t, anon.Call("POST", "/auth/sign-in", map[string]string{"email": kari, "password": "worker passphrase long"}, nil), 401)
	mustStatus(t, worker.Call("GET", "/me/export", nil, nil), 401)

	evs := recv.WaitForEvents(t, 4, 20*time.Second)
	removed := 0
	for _, e := range evs {
		if e.Type == "worker.removed" {
			removed++
		}
	}
	if removed != 2 {
		t.Errorf("events %+v", evs)
	}

	// Nothing in the table names them any more: not what the partner was
	// told (its snapshot, its deliveries once delivered), not the audit
	// trail. A delivery is saved just after the receiver answers: wait.
	// The sign-in tries above, after the erasure, made throttles at the
	// addresses, as a try at any address does (until their TTL).
	var left []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		left = nil
		for _, it := range scanTable(t, s.Table, kari, kariMe.UserID, "+4791512345", bob, bobMe.UserID) {
			if !strings.HasPrefix(it, "map[PK:SIGNIN#") && !strings.HasPrefix(it, "map[PK:QUOTA#signin#") {
				left = append(left, it)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("erasure left %d items naming them:\n%s", len(left), strings.Join(left, "\n"))
	}

	// The audit trail keeps every event, under pseudonyms.
	var trail struct {
		Items []struct {
			Action   string `json:"action"`
			ActorID  string `json:"actorId"`
			TargetID string `json:"targetId"`
		} `json:"items"`
	}
	res = admin.Call("GET", "/orgs/"+orgID+"/audit?limit=100", nil, &trail)
	mustStatus(t, res, 200)
	erased := 0
	for _, e := range trail.Items {
		if e.Action == "member.erased" && strings.HasPrefix(e.TargetID, "erased-") {
			erased++
		}
		for _, v := range []string{e.ActorID, e.TargetID} {
			if v == kariMe.UserID || v == bobMe.UserID {
				t.Errorf("the trail still names an erased person: %+v", e)
			}
		}
	}
	if erased != 2 {
		t.Errorf("member.erased entries: %d in %+v", erased, trail.Items)
	}
	raw, _ := json.Marshal(trail)
	if strings.Contains(string(raw), kari) || strings.Contains(string(raw), bob) {
		t.Errorf("the trail still holds an erased address: %s", raw)
	}
	if strings.Contains(logs.String(), kari) || strings.Contains(logs.String(), "worker passphrase long") {
		t.Error("an address or password is in the logs")
	}
}

// scanTable returns every item of the table holding one of needles (a test
// may scan; the service never does).
func scanTable(t *testing.T, table string, needles ...string) []string {
	t.Helper()
	var found []string
	p := dynamodb.NewScanPaginator(testenv.DynamoDBClient(), &dynamodb.ScanInput{TableName: &table})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				t.Fatal(err)
			}
			s := fmt.Sprint(m)
			for _, n := range needles {
				if strings.Contains(s, n) {
					found = append(found, s)
					break
				}
			}
		}
	}
	return found
}
