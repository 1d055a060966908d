package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"onboarding/infra/local"
)

// receiver is the partner's endpoint: it notes when each event arrives
// (signatures are checked by the tests; here only timing matters).
type receiver struct {
	mu       sync.Mutex
	arrived  map[string]time.Time // "<email> <first contact's phone>" -> first arrival
	messages int
	events   int
	last     time.Time
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body struct {
		Data struct {
			Events []struct {
				Worker struct {
					UserName   string `json:"userName"`
					Monitoring struct {
						EscalationContacts []struct {
							Phone string `json:"phone"`
						} `json:"escalationContacts"`
					} `json:"urn:ietf:params:scim:schemas:extension:onboarding:monitoring:2.0:User"`
				} `json:"worker"`
			} `json:"events"`
		} `json:"data"`
	}
	json.NewDecoder(req.Body).Decode(&body)
	now := time.Now()
	r.mu.Lock()
	r.messages++
	for _, e := range body.Data.Events {
		phone := ""
		if cs := e.Worker.Monitoring.EscalationContacts; len(cs) > 0 {
			phone = cs[0].Phone
		}
		k := e.Worker.UserName + " " + phone
		if _, ok := r.arrived[k]; !ok {
			r.arrived[k] = now
			r.events++
		}
	}
	r.last = now
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) at(k string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.arrived[k]
	return t, ok
}

func (r *receiver) counts() (messages, events int, last time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.messages, r.events, r.last
}

// partners measures partner notification through the runner, on a stack of
// its own whose table has its stream (the runner's poller reads it every
// 250 ms, as Lambda does): change-to-delivery latency over 200 changes of a
// monitored worker's profile, one at a time, and deliveries per second for
// an import of 5,000 new monitored workers.
func partners(host, tmp string) error {
	table := "bench-partners-" + fmt.Sprint(time.Now().Unix())
	stack, err := local.Start(context.Background(), local.Config{
		Template: "template.yaml", BuildDir: host, StateDir: filepath.Join(tmp, "state-partners"),
		Table: table, Bucket: "bench-partners",
		APIAddr: "127.0.0.1:0", InvokeAddr: "127.0.0.1:0", S3Addr: "127.0.0.1:0",
		DynamoDBEndpoint: env("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000"), SESEndpoint: env("SES_ENDPOINT", "http://127.0.0.1:8005"),
		KMSEndpoint:    env("KMS_ENDPOINT", "http://127.0.0.1:8010"),
		MaxConcurrency: 8, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), FunctionOutput: io.Discard,
	})
	if err != nil {
		return err
	}
	defer stack.Close()
	defer deleteTable(table)
	b := &bench{stack: stack, run: fmt.Sprint(time.Now().UnixNano() % 1e9)}

	adminEmail := "partners-admin-" + b.run + "@example.no"
	payload, _ := json.Marshal(map[string]string{"name": "Partner Bench", "adminEmail": adminEmail, "defaultPhoneRegion": "NO"})
	res, err := http.Post(stack.InvokeURL+"/2015-03-31/functions/ProvisionFunction/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	var prov struct{ OrgID string }
	json.NewDecoder(res.Body).Decode(&prov)
	res.Body.Close()
	b.orgID = prov.OrgID
	if b.admin, err = b.join(adminEmail); err != nil {
		return err
	}
	if err := b.expect("PATCH", "/orgs/"+b.orgID+"/settings", b.admin, map[string]any{
		"rateLimits": map[string]int{"invitationsPerHour": 100000, "emailsPerRecipientPerDay": 50}}, nil, 200); err != nil {
		return err
	}

	recv := &receiver{arrived: map[string]time.Time{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: recv}
	go srv.Serve(ln)
	defer srv.Close()
	if err := b.expect("PUT", "/orgs/"+b.orgID+"/partners/vakt", b.admin, map[string]any{"name": "Vakt 24",
		"webhook": map[string]string{"url": "http://" + ln.Addr().String() + "/hook"}, "addedOn": "invited"}, nil, 201); err != nil {
		return err
	}

	// Latency: one worker, 200 changes of their escalation contacts, each
	// waited for before the next.
	workerEmail := "partners-worker-" + b.run + "@example.no"
	if err := b.expect("POST", "/orgs/"+b.orgID+"/invitations", b.admin, map[string]any{"email": workerEmail, "role": "member", "phone": "915 12 345"}, nil, 201); err != nil {
		return err
	}
	worker, err := b.join(workerEmail)
	if err != nil {
		return err
	}
	var me struct{ UserID string }
	if err := b.expect("GET", "/me", worker, nil, &me, 200); err != nil {
		return err
	}
	// The worker (invited, then accepted) is told first.
	if err := waitUntil(30*time.Second, func() bool { _, ok := recv.at(workerEmail + " "); return ok }); err != nil {
		return fmt.Errorf("the worker never reached the partner: %w", err)
	}
	const changes = 200
	fmt.Fprintf(os.Stderr, "bench: %d changes to one worker, each waited for at the partner\n", changes)
	var lat []time.Duration
	for i := range changes {
		body := map[string]any{"escalationContacts": []map[string]string{
			{"name": "Ola", "phone": fmt.Sprintf("41%06d", i)}, {"name": "Per", "phone": "48999999"}}}
		if err := b.expect("PUT", "/orgs/"+b.orgID+"/members/"+me.UserID+"/monitoring", b.admin, body, nil, 200); err != nil {
			return err
		}
		changed := time.Now() // the change is committed when the API answers
		want := fmt.Sprintf("%s +4741%06d", workerEmail, i)
		if err := waitUntil(30*time.Second, func() bool { _, ok := recv.at(want); return ok }); err != nil {
			return fmt.Errorf("change %d never reached the partner: %w", i, err)
		}
		at, _ := recv.at(want)
		lat = append(lat, max(at.Sub(changed), 0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	out("\n## Partner notifications\n\n")
	out("Through the runner on a stack of its own whose table has its DynamoDB stream, polled every 250 ms (as Lambda polls a shard four times a second); the partner's webhook a local HTTP server.\n\n")
	out("Change-to-delivery latency: %d changes of one monitored worker's escalation contacts through `PUT .../monitoring`, one at a time, from the API's answer (the change committed) to the webhook's arrival at the partner.\n\n", changes)
	out("| changes | p50 | p95 (target < 2 s) | max |\n|---:|---:|---:|---:|\n| %d | %s | %s | %s |\n\n",
		changes, lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*95/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))

	// Throughput: 5,000 new monitored workers from a spreadsheet; the
	// partner hears of each when invited.
	const rows = 5000
	var csv strings.Builder
	csv.WriteString("Fornavn;Etternavn;E-post;Mobil;Eskaleringskontakt 1 navn;Eskaleringskontakt 1 telefon;" +
		"Eskaleringskontakt 2 navn;Eskaleringskontakt 2 telefon\r\n")
	for i := range rows {
		fmt.Fprintf(&csv, "Kari;N%d;partners-%s-%05d@example.no;9%07d;Ola;41%06d;Per;48%06d\r\n", i, b.run, i, i, i%2000, i%2000)
	}
	var up struct {
		ImportID  string `json:"importId"`
		UploadURL string `json:"uploadUrl"`
	}
	if err := b.expect("POST", "/orgs/"+b.orgID+"/imports", b.admin, map[string]any{"fileName": "roster.csv", "size": csv.Len()}, &up, 201); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: importing %d monitored workers with the partner listening\n", rows)
	msgs0, events0, _ := recv.counts()
	start := time.Now()
	req, _ := http.NewRequest("PUT", up.UploadURL, strings.NewReader(csv.String()))
	if res, err = http.DefaultClient.Do(req); err != nil {
		return err
	}
	res.Body.Close()
	var imported time.Duration
	var job struct{ Status string }
	err = waitUntil(20*time.Minute, func() bool {
		if imported == 0 {
			if b.expect("GET", "/orgs/"+b.orgID+"/imports/"+up.ImportID, b.admin, nil, &job, 200) == nil && job.Status == "done" {
				imported = time.Since(start)
			}
		}
		_, n, _ := recv.counts()
		return n-events0 >= rows
	})
	if err != nil {
		_, n, _ := recv.counts()
		return fmt.Errorf("the partner heard of %d of %d workers: %w", n-events0, rows, err)
	}
	msgs, events, last := recv.counts()
	total := last.Sub(start)
	deliveries := msgs - msgs0
	out("A spreadsheet of %d new monitored workers (a partner told of workers as soon as they are invited), from the upload until the partner had heard of every one:\n\n", rows)
	out("| workers | import done | last event at the partner | deliveries | events per delivery | deliveries/s | events/s |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	out("| %d | %s | %s | %d | %.0f | %.1f | %.0f |\n", rows, imported.Round(100*time.Millisecond), total.Round(100*time.Millisecond),
		deliveries, float64(events-events0)/float64(deliveries), float64(deliveries)/total.Seconds(), float64(events-events0)/total.Seconds())
	return nil
}

// join accepts the newest invitation to email and signs in.
func (b *bench) join(email string) (string, error) {
	toks, err := tokens([]string{email})
	if err != nil {
		return "", err
	}
	if err := b.expect("POST", "/invitations/accept", "", map[string]any{"token": toks[email], "firstName": "B", "lastName": "P",
		"password": "a bench passphrase", "acceptTerms": true, "termsVersion": "2026-01"}, nil, 201); err != nil {
		return "", err
	}
	var session struct{ AccessToken string }
	err = b.expect("POST", "/auth/sign-in", "", map[string]string{"email": email, "password": "a bench passphrase"}, &session, 200)
	return session.AccessToken, err
}

func waitUntil(limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}
