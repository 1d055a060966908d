package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// sectionOnly (BENCH_ONLY=<name>) runs one section alone, on a stack of
// its own with DynamoDB requests counted, and writes build/bench-<name>.md.
func sectionOnly(host, tmp, name string, section func(*bench) error) error {
	table := "bench-" + name + "-" + fmt.Sprint(time.Now().Unix())
	stack, counter, err := countedStack(host, filepath.Join(tmp, "state-"+name), table, "bench-"+name)
	if err != nil {
		return err
	}
	defer stack.Close()
	defer deleteTable(table)
	b := &bench{stack: stack, counter: counter, table: table, run: fmt.Sprint(time.Now().UnixNano() % 1e9)}
	if err := section(b); err != nil {
		return err
	}
	os.MkdirAll("build", 0o755)
	return os.WriteFile(filepath.Join("build", "bench-"+name+".md"), []byte(report.String()), 0o644)
}

// sessions measures refresh (issue #13): the DynamoDB requests of one, and
// its latency through the runner at concurrency 8, each worker refreshing
// its own session chain (each refresh spends the token the last one gave).
func (b *bench) sessions() error {
	email := "sessions-" + b.run + "@example.no"
	payload, _ := json.Marshal(map[string]string{"name": "Sessions Bench", "adminEmail": email, "defaultPhoneRegion": "NO"})
	res, err := http.Post(b.stack.InvokeURL+"/2015-03-31/functions/ProvisionFunction/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	res.Body.Close()
	if _, err := b.join(email); err != nil {
		return fmt.Errorf("sessions: join: %w", err)
	}
	type tokens struct{ AccessToken, RefreshToken string }
	signIn := func() (string, error) {
		var t tokens
		err := b.expect("POST", "/auth/sign-in", "", map[string]string{"email": email, "password": "a bench passphrase"}, &t, 200)
		return t.RefreshToken, err
	}
	refresh := func(token string) (string, error) {
		var t tokens
		err := b.expect("POST", "/auth/refresh", "", map[string]string{"refreshToken": token}, &t, 200)
		return t.RefreshToken, err
	}

	// Requests per refresh, over a few, after one that warms the function.
	token, err := signIn()
	if err != nil {
		return err
	}
	if token, err = refresh(token); err != nil {
		return err
	}
	const counted = 10
	b.counter.take()
	for range counted {
		if token, err = refresh(token); err != nil {
			return err
		}
	}
	ops, rcu, wcu := b.counter.take()
	var parts []string
	total := 0
	for op, n := range ops {
		total += n
		parts = append(parts, fmt.Sprintf("%s %.1f", op, float64(n)/counted))
	}
	sort.Strings(parts)

	// Latency: 8 workers, each its own chain of 50 refreshes. The sessions
	// open one after another: sign-in refuses parallel guesses at one
	// address from one source (429), rightly.
	const workers, perWorker = 8, 50
	chains := make([]string, workers)
	for i := range chains {
		if chains[i], err = signIn(); err != nil {
			return err
		}
	}
	var mu sync.Mutex
	var ds []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for _, tok := range chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			for i := 0; err == nil && i < perWorker; i++ {
				start := time.Now()
				tok, err = refresh(tok)
				d := time.Since(start)
				mu.Lock()
				ds = append(ds, d)
				mu.Unlock()
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("sessions: %w", firstErr)
	}
	out("## Sessions\n\nPOST /auth/refresh through the runner (issue #13). DynamoDB requests counted at the proxy over %d refreshes of one session "+
		"(target: one read and one conditional write):\n\n| requests per refresh | by API call | read units | write units |\n|---:|---|---:|---:|\n", counted)
	out("| %.1f | %s | %.1f | %.1f |\n\n", float64(total)/counted, strings.Join(parts, ", "), rcu/counted, wcu/counted)
	out("Latency at concurrency 8, each worker refreshing its own session chain %d times (%d refreshes):\n\n| p50 | p99 | max |\n|---:|---:|---:|\n", perWorker, len(ds))
	out("| %s | %s | %s |\n\n", percentile(ds, 0.5).Round(100*time.Microsecond), percentile(ds, 0.99).Round(100*time.Microsecond),
		percentile(ds, 1).Round(100*time.Microsecond))
	return nil
}
