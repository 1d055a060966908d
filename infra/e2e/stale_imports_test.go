package e2e

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"onboarding/infra/testenv"
	"onboarding/shared/ddb"
	"onboarding/shared/importjob"
)

// Imports whose run was killed outright, through the runner: the sweep
// binary starts the ingest binary again for one whose lease is over (its
// upload's event had found it leased and given up), which finishes it; and
// it fails one that has been resumed three times, telling the uploader. It
// also ends an import whose upload URL expired unused (looking for its file
// in the bucket, as its role allows), which frees its place.
func TestStaleImportsThroughRunner(t *testing.T) {
	s, logs := StackWithLogs(t)
	ctx := context.Background()
	store := ddb.New(testenv.DynamoDBClient(), s.Table, time.Now)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"
	orgID := Provision(t, s, "Stale Care "+id, adminEmail)
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)
	createUnit(t, admin, orgID, "Nord")

	csvText := "First name,Last name,Email,Mobile,Unit,Escalation contact 1 name,Escalation contact 1 phone," +
		"Escalation contact 2 name,Escalation contact 2 phone\r\n" +
		"Kari,Nordmann,kari-" + id + "@example.no,915 12 345,Nord,Ola,41234567,Per,41234568\r\n"
	type upload struct {
		ImportID  string `json:"importId"`
		UploadURL string `json:"uploadUrl"`
	}
	newImport := func() upload {
		var up upload
		mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/imports", map[string]any{"fileName": "roster.csv", "size": len(csvText)}, &up), 201)
		return up
	}
	put := func(up upload) {
		req, _ := http.NewRequest("PUT", up.UploadURL, strings.NewReader(csvText))
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("upload: %v %v", res, err)
		}
		res.Body.Close()
	}
	type status struct {
		Status  string `json:"status"`
		Message string `json:"message"`
		Counts  struct{ Rows, Created int }
	}
	waitFor := func(importID, want string) status {
		var job status
		for deadline := time.Now().Add(30 * time.Second); job.Status != want; time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("import %s is %+v, not %s\n%s", importID, job, want, logs)
			}
			mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/imports/"+importID, nil, &job), 200)
		}
		return job
	}

	// An import that runs through: its job names the function that ran it.
	first := newImport()
	put(first)
	waitFor(first.ImportID, "done")
	ran, err := store.Import(ctx, orgID, first.ImportID)
	if err != nil || ran == nil || !strings.Contains(ran.Runner, "IngestFunction") {
		t.Fatalf("the job does not name its runner: %+v %v", ran, err)
	}

	// A run took the next import and was killed (its lease runs out in a
	// few seconds); the upload's event finds it leased and gives up.
	killed := newImport()
	key := "imports/" + orgID + "/" + killed.ImportID + "/roster.csv"
	sum := md5.Sum([]byte(csvText))
	now := time.Now().UTC().Truncate(time.Second)
	if _, ok, err := store.ClaimImport(ctx, orgID, killed.ImportID, importjob.Claim{Key: key, Version: hex.EncodeToString(sum[:]),
		Size: int64(len(csvText)), Runner: ran.Runner, Until: now.Add(3 * time.Second), Now: now}); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	put(killed)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "import event ignored"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the upload's event did not find the import leased\n%s", logs)
		}
	}

	// Another was resumed three times already, and died each time.
	spent := newImport()
	past := now.Add(-time.Hour)
	if _, ok, err := store.ClaimImport(ctx, orgID, spent.ImportID, importjob.Claim{Key: "imports/" + orgID + "/" + spent.ImportID + "/roster.csv",
		Version: "v1", Runner: ran.Runner, Until: past, Now: past.Add(-lease)}); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	for i := range importjob.MaxResumes {
		seen, err := store.Import(ctx, orgID, spent.ImportID)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := store.ResumeImport(ctx, *seen, past.Add(time.Duration(i+1)*time.Minute)); !ok || err != nil {
			t.Fatalf("resume %d: %v %v", i, ok, err)
		}
	}

	// Another's upload URL expired long ago, unused.
	unused := importjob.NewUpload(orgID, "unused-"+id, ran.UploadedBy, "roster.csv", now.Add(-2*time.Hour))
	if ok, err := store.OpenImport(ctx, unused, importjob.MaxOpenPerOrg); !ok || err != nil {
		t.Fatalf("open: %v %v", ok, err)
	}

	time.Sleep(time.Until(now.Add(4 * time.Second))) // the killed run's lease is over
	code, out, fnErr := invoke(t, s.InvokeURL, "SweepFunction", readEvent(t, "schedule-sweep.json"))
	var report struct {
		Imports importjob.ResumeReport `json:"imports"`
	}
	if code != 200 || fnErr || json.Unmarshal(out, &report) != nil {
		t.Fatalf("sweep: %d %s\n%s", code, out, logs)
	}
	if report.Imports.Resumed != 1 || report.Imports.Failed != 1 || report.Imports.Expired != 1 || report.Imports.Errors != 0 {
		t.Fatalf("sweep report %s", out)
	}
	if job := waitFor(killed.ImportID, "done"); job.Counts.Rows != 1 {
		t.Fatalf("resumed import %+v", job)
	}
	if job := waitFor(spent.ImportID, "failed"); !strings.Contains(job.Message, "kept stopping") {
		t.Fatalf("given-up import %+v", job)
	}
	if job := waitFor(unused.ID, "failed"); !strings.Contains(job.Message, "no file was uploaded") {
		t.Fatalf("unused upload %+v", job)
	}
	// The uploader is told of both (and of the first import).
	var told bool
	for _, e := range testenv.WaitForEmails(t, adminEmail, 4) {
		told = told || strings.Contains(e.Body.Text, "kept stopping before it could finish")
	}
	if !told {
		t.Fatal("the uploader was not told of the import given up")
	}
}

// lease is how long the ingest holds a job (Lambda's longest run).
const lease = 15 * time.Minute
