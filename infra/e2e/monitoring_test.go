package e2e

import (
	"strings"
	"testing"

	"onboarding/infra/testenv"
)

func TestMonitoringProfileOverHTTP(t *testing.T) {
	s, logs := StackWithLogs(t)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	workerEmail := "kari-" + id + "@example.no"
	orgID := Provision(t, s, "Monitor Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": workerEmail, "role": "member", "phone": "915 12 345"}, nil), 201)
	worker := signUp(t, s, workerEmail, "worker passphrase long", 1)
	var me struct {
		UserID string `json:"userId"`
	}
	mustStatus(t, worker.Call("GET", "/me", nil, &me), 200)
	path := "/orgs/" + orgID + "/members/" + me.UserID + "/monitoring"

	type profile struct {
		EscalationContacts []struct{ Name, Phone string }  `json:"escalationContacts"`
		HasSafeWord        bool                            `json:"hasSafeWord"`
		Version            int                             `json:"version"`
		Rota               *struct{ EffectiveDate string } `json:"rota"`
		Warnings           []struct{ Field string }        `json:"warnings"`
	}
	var p profile
	mustStatus(t, admin.Call("GET", path, nil, &p), 200)
	if p.Version != 0 || len(p.EscalationContacts) != 0 {
		t.Fatalf("new profile %+v", p)
	}
	const safeWord = "tyttebær-" + "7731"
	body := map[string]any{
		"escalationContacts": []map[string]string{{"name": "Ola", "phone": "412 34 567"}, {"name": "Per", "phone": "+47 41234568"}},
		"outOfHoursContacts": []map[string]string{{"name": "Vakt", "phone": "22334455"}},
		"rota":               map[string]string{"reference": "T-7", "effectiveDate": "2020-01-01"},
		"safeWord":           safeWord, "licencePlate": "ab 12345", "version": 0,
	}
	mustStatus(t, admin.Call("PUT", path, body, &p), 200)
	if p.Version != 1 || !p.HasSafeWord || p.EscalationContacts[0].Phone != "+4741234567" || len(p.Warnings) != 1 {
		t.Fatalf("saved %+v", p)
	}
	// The worker reads their own profile; the safe word never comes back.
	res := worker.Call("GET", path, nil, &p)
	mustStatus(t, res, 200)
	if !p.HasSafeWord {
		t.Fatalf("%+v", p)
	}
	// A stale version is refused; bad contacts are a 422 naming the field.
	mustStatus(t, admin.Call("PUT", path, body, nil), 409)
	var prob problem
	bad := map[string]any{"escalationContacts": []map[string]string{{"name": "Ola", "phone": "915 12 345"}}}
	mustStatus(t, admin.Call("PUT", path, bad, &prob), 422)
	fields := map[string]bool{}
	for _, e := range prob.Errors {
		fields[e.Field] = true
	}
	if !fields["escalationContacts[0].phone"] || !fields["escalationContacts"] {
		t.Fatalf("%+v", prob)
	}
	// The worker may not change it.
	mustStatus(t, worker.Call("PUT", path, body, nil), 403)
	if strings.Contains(logs.String(), safeWord) {
		t.Fatal("the safe word is in the logs")
	}
}
