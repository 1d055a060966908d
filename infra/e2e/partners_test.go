package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"onboarding/infra/local"
	"onboarding/infra/testenv"
)

// withStream runs the stack with the table's stream and its poller, as
// partner notifications need.
func withStream(c *local.Config) { c.NoStream = false }

// A monitored worker's life through the runner: accepted, contacts changed
// through the API and through a spreadsheet, removed. The webhook receiver
// (checking every signature) gets added, updated, updated, removed, each
// once and in order; the email partner gets the changes as CSV.
func TestPartnerNotificationsThroughRunner(t *testing.T) {
	s, logs := StackWithLogs(t, withStream)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Partner Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	recv := testenv.NewReceiver(t, "")
	partnerMail := "vakt-" + id + "@example.no"
	var saved struct {
		Secret  string `json:"secret"`
		Version int    `json:"version"`
	}
	mustStatus(t, admin.Call("PUT", "/orgs/"+orgID+"/partners/vakt", map[string]any{
		"name": "Vakt 24", "webhook": map[string]string{"url": recv.URL},
		"email": map[string]any{"addresses": []string{partnerMail}, "language": "nb"}}, &saved), 201)
	if !strings.HasPrefix(saved.Secret, "whsec_") {
		t.Fatalf("secret %q", saved.Secret)
	}
	recv.Trust(saved.Secret)
	var got struct {
		Secret string `json:"secret"`
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/partners/vakt", nil, &got), 200)
	if got.Secret != "" {
		t.Fatal("the secret is shown again")
	}

	kari := "kari-" + id + "@example.no"
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": kari, "role": "member", "phone": "915 12 345"}, nil), 201)
	worker := signUp(t, s, kari, "worker passphrase long", 1)
	_ = worker
	recv.WaitForEvents(t, 1, 10*time.Second)
	var me struct {
		UserID string `json:"userId"`
	}
	mustStatus(t, worker.Call("GET", "/me", nil, &me), 200)

	mustStatus(t, admin.Call("PUT", "/orgs/"+orgID+"/members/"+me.UserID+"/monitoring", map[string]any{
		"escalationContacts": []map[string]string{{"name": "Ola", "phone": "41234567"}, {"name": "Per", "phone": "41234568"}},
		"safeWord":           "blåbær-" + id}, nil), 200)
	recv.WaitForEvents(t, 2, 10*time.Second)

	csvText := "Fornavn;Etternavn;E-post;Mobil;Eskaleringskontakt 1 navn;Eskaleringskontakt 1 telefon;" +
		"Eskaleringskontakt 2 navn;Eskaleringskontakt 2 telefon\r\n" +
		"Kari;Nordmann;" + kari + ";915 12 345;Liv;41234569;Per;41234568\r\n"
	var up struct {
		UploadURL string `json:"uploadUrl"`
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/imports", map[string]any{"fileName": "vaktliste.csv", "size": len(csvText)}, &up), 201)
	req, _ := http.NewRequest("PUT", up.UploadURL, strings.NewReader(csvText))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("upload: %v %v", res, err)
	}
	res.Body.Close()
	recv.WaitForEvents(t, 3, 20*time.Second)

	mustStatus(t, admin.Call("DELETE", "/orgs/"+orgID+"/members/"+me.UserID, nil, nil), 204)
	evs := recv.WaitForEvents(t, 4, 10*time.Second)
	time.Sleep(500 * time.Millisecond) // anything more would be a duplicate
	evs = recv.Events()
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Type)
	}
	if !slices.Equal(kinds, []string{"worker.added", "worker.updated", "worker.updated", "worker.removed"}) {
		t.Fatalf("events %v\n%s", kinds, logs)
	}
	if !strings.Contains(string(evs[2].Worker), "+4741234569") || !slices.Contains(evs[2].ChangedFields, "escalationContacts") {
		t.Fatalf("the spreadsheet's change: %s %v", evs[2].Worker, evs[2].ChangedFields)
	}
	if recv.Duplicates() != 0 || len(recv.Rejected()) != 0 {
		t.Fatalf("duplicates %d, rejected %v", recv.Duplicates(), recv.Rejected())
	}

	// The email partner: one email per delivery, the changes attached as CSV.
	mails := testenv.WaitForEmails(t, partnerMail, 4)
	csvs := ""
	for _, m := range mails {
		for _, a := range m.Attachments {
			b, _ := base64.StdEncoding.DecodeString(a.Content)
			csvs += string(b)
		}
	}
	for _, want := range []string{"worker.added", "worker.updated", "worker.removed", "+4741234569", "blåbær-" + id} {
		if !strings.Contains(csvs, want) {
			t.Fatalf("the partner's CSVs lack %q:\n%s", want, csvs)
		}
	}

	var page struct {
		Items []struct {
			Status    string `json:"status"`
			Channel   string `json:"channel"`
			LatencyMs int64  `json:"latencyMs"`
		} `json:"items"`
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/partners/vakt/deliveries?limit=20", nil, &page), 200)
	if len(page.Items) != 8 {
		t.Fatalf("%d deliveries", len(page.Items))
	}
	for _, d := range page.Items {
		if d.Status != "delivered" {
			t.Fatalf("%+v", page.Items)
		}
	}
	if strings.Contains(logs.String(), "blåbær-"+id) || strings.Contains(logs.String(), saved.Secret) {
		t.Fatal("a safe word or secret is in the logs")
	}
}

// The receiver down for a while loses nothing through the runner: the
// failed delivery is retried by the schedule (fired every second here),
// and what came meanwhile follows in order.
func TestPartnerReceiverDownThroughRunner(t *testing.T) {
	s, logs := StackWithLogs(t, withStream, func(c *local.Config) { c.ScheduleEvery = time.Second })
	_ = s
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Outage Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	recv := testenv.NewReceiver(t, "")
	var saved struct {
		Secret string `json:"secret"`
	}
	mustStatus(t, admin.Call("PUT", "/orgs/"+orgID+"/partners/vakt", map[string]any{
		"name": "Vakt 24", "webhook": map[string]string{"url": recv.URL}, "addedOn": "invited"}, &saved), 201)
	recv.Trust(saved.Secret)
	recv.Answer(503, 0)
	for _, who := range []string{"kari", "ola", "per"} {
		mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": who + "-" + id + "@example.no", "role": "member"}, nil), 201)
		time.Sleep(300 * time.Millisecond) // separate stream batches
	}
	var page struct {
		Items []struct {
			Status    string `json:"status"`
			Attempts  int    `json:"attempts"`
			LastError string `json:"lastError"`
		} `json:"items"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/partners/vakt/deliveries", nil, &page), 200)
		if len(page.Items) > 0 && page.Items[len(page.Items)-1].Attempts > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no attempt recorded: %+v\n%s", page, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if first := page.Items[len(page.Items)-1]; first.Status != "pending" || !strings.Contains(first.LastError, "503") {
		t.Fatalf("first delivery %+v", first)
	}
	recv.Answer(0, 0)
	// The first retry is due 10 s after the failure.
	evs := recv.WaitForEvents(t, 3, 30*time.Second)
	var order []string
	for _, e := range evs {
		var w struct {
			UserName string `json:"userName"`
		}
		json.Unmarshal(e.Worker, &w)
		order = append(order, strings.Split(w.UserName, "-")[0])
	}
	if !slices.Equal(order, []string{"kari", "ola", "per"}) || recv.Duplicates() != 0 {
		t.Fatalf("after the outage: %v, %d duplicates", order, recv.Duplicates())
	}
}
