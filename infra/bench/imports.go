package main

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

// importRoster measures a 10,000-row import end to end through the runner:
// the upload URL from the API, a PUT to the S3 emulator, the notification,
// the ingest binary applying every row on DynamoDB Local; wall time until
// the status says done, and DynamoDB requests per row.
func (b *bench) importRoster() error {
	const rows = 10_000
	var unit struct {
		UnitID string `json:"unitId"`
	}
	if status, err := b.call("POST", "/orgs/"+b.orgID+"/units", b.admin, map[string]string{"name": "Nord"}, &unit); err != nil || status != 201 {
		return fmt.Errorf("create unit: %d %v", status, err)
	}
	var csv strings.Builder
	csv.WriteString("Fornavn;Etternavn;E-post;Mobil;Avdeling;Eskaleringskontakt 1 navn;Eskaleringskontakt 1 telefon;" +
		"Eskaleringskontakt 2 navn;Eskaleringskontakt 2 telefon;Kodeord\r\n")
	for i := range rows {
		fmt.Fprintf(&csv, "Kari;N%d;import-%s-%05d@example.no;9%07d;Nord;Ola;41%06d;Per;48%06d;ord%d\r\n", i, b.run, i, i, i%2000, i%2000, i%97)
	}
	var up struct {
		ImportID  string `json:"importId"`
		UploadURL string `json:"uploadUrl"`
	}
	if status, err := b.call("POST", "/orgs/"+b.orgID+"/imports", b.admin, map[string]any{"fileName": "roster.csv", "size": csv.Len()}, &up); err != nil || status != 201 {
		return fmt.Errorf("create import: %d %v", status, err)
	}
	fmt.Fprintf(os.Stderr, "bench: importing %d rows through the runner\n", rows)
	b.counter.take()
	start := time.Now()
	req, _ := http.NewRequest("PUT", up.UploadURL, strings.NewReader(csv.String()))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	var job struct {
		Status string `json:"status"`
		Counts struct {
			Rows, Created, Errors int
		} `json:"counts"`
		Message string `json:"message"`
	}
	for job.Status != "done" && job.Status != "failed" {
		if time.Since(start) > 20*time.Minute {
			return fmt.Errorf("the import did not finish: %+v", job)
		}
		time.Sleep(250 * time.Millisecond)
		if _, err := b.call("GET", "/orgs/"+b.orgID+"/imports/"+up.ImportID, b.admin, nil, &job); err != nil {
			return err
		}
	}
	took := time.Since(start)
	ops, rcu, wcu := b.counter.take()
	if job.Status != "done" || job.Counts.Created != rows {
		return fmt.Errorf("import: %+v", job)
	}
	var names []string
	total := 0
	for op, n := range ops {
		total += n
		names = append(names, fmt.Sprintf("%s %.2f", op, float64(n)/rows))
	}
	sort.Strings(names)
	out("\n## Importing 10,000 rows through the runner\n\n")
	out("A CSV of 10,000 new monitored workers (with escalation contacts and a safe word), uploaded through the presigned URL; " +
		"from the PUT until GET /imports/{id} said done (the status polled every 250 ms, its own requests included below).\n\n")
	out("| rows | wall time | rows/s | DynamoDB requests per row | by API call, per row | write units per row |\n|---:|---:|---:|---:|---|---:|\n")
	out("| %d | %s | %.0f | %.2f | %s | %.1f |\n\n", rows, took.Round(100*time.Millisecond), float64(rows)/took.Seconds(),
		float64(total)/rows, strings.Join(names, ", "), wcu/rows)
	_ = rcu
	return nil
}
