package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onboarding/infra/local"
	"onboarding/infra/testenv"
)

// withTemplate runs the stack on a copy of template.yaml changed by edit.
func withTemplate(t *testing.T, edit func(string) string) func(*local.Config) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	changed := edit(string(src))
	if changed == string(src) {
		t.Fatal("the edit changed nothing in the template")
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *local.Config) { c.Template = path }
}

// The runner refuses what IAM would refuse: with the one permission a
// monitoring profile's save needs taken out of the invite function's policy
// (its transaction checks the member with a ConditionCheck), the save fails
// as it would in AWS, and the runner names the denied action; the same
// request passes under the real template (TestMonitoringProfileOverHTTP).
func TestIAMDeniesWhatTheTemplateDoesNotAllow(t *testing.T) {
	withoutConditionCheck := withTemplate(t, func(tpl string) string {
		start := strings.Index(tpl, "  InviteFunction:")
		end := start + strings.Index(tpl[start:], "  AcceptFunction:")
		return tpl[:start] + strings.Replace(tpl[start:end], ", dynamodb:ConditionCheckItem", "", 1) + tpl[end:]
	})
	s, logs := StackWithLogs(t, withoutConditionCheck)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	workerEmail := "kari-" + id + "@example.no"
	orgID := Provision(t, s, "IAM Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	// No ConditionCheck in these transactions: allowed.
	north := createUnit(t, admin, orgID, "North")
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": workerEmail, "role": "member", "units": []string{north}}, nil), 201)
	worker := signUp(t, s, workerEmail, "worker passphrase long", 1)
	var me struct {
		UserID string `json:"userId"`
	}
	mustStatus(t, worker.Call("GET", "/me", nil, &me), 200)

	// The profile's transaction checks the member: denied. (Sent without
	// the contract check: the contract has no 500.)
	body := `{"escalationContacts":[{"name":"Ola","phone":"412 34 567"},{"name":"Per","phone":"+47 41234568"}],` +
		`"outOfHoursContacts":[{"name":"Vakt","phone":"22334455"}],"rota":{"reference":"T-7","effectiveDate":"2020-01-01"},` +
		`"licencePlate":"ab 12345","version":0}`
	req, _ := http.NewRequest("PUT", admin.base+"/orgs/"+orgID+"/members/"+me.UserID+"/monitoring", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+admin.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 500 {
		t.Fatalf("monitoring profile without dynamodb:ConditionCheckItem: %d, want 500", res.StatusCode)
	}
	out := logs.String()
	if !strings.Contains(out, "IAM: access denied") || !strings.Contains(out, "action=dynamodb:ConditionCheckItem") ||
		!strings.Contains(out, "function=InviteFunction") {
		t.Fatalf("the runner did not report the denied ConditionCheckItem:\n%s", lastLines(out, 20))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
