package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"
)

// passwordReset times POST /auth/password-reset for addresses with and
// without an account, interleaved (the order alternating) in one run. Each
// pair comes from its own loopback source and each existing address is asked
// for at most 3 times, so no budget refuses one (a refused request does less
// work). The answer is padded to a floor; the ratio of the medians shows
// whether anything of the lookup or the email's sending still shows.
func (b *bench) passwordReset() error {
	const accounts, rounds = 10, 3 // 3: the requests one address may make in an hour
	var emails []string
	for i := 0; i < accounts; i++ {
		e := fmt.Sprintf("reset-%s-%d@example.no", b.run, i)
		emails = append(emails, e)
		if err := b.expect("POST", "/orgs/"+b.orgID+"/invitations", b.admin, map[string]any{"email": e, "role": "member"}, nil, 201); err != nil {
			return err
		}
	}
	toks, err := tokens(emails)
	if err != nil {
		return err
	}
	for _, e := range emails {
		if err := b.expect("POST", "/invitations/accept", "", map[string]any{"token": toks[e], "firstName": "Reset", "lastName": "Bench",
			"password": "a bench passphrase", "acceptTerms": true, "termsVersion": "2026-01"}, nil, 201); err != nil {
			return err
		}
	}
	timeOne := func(client *http.Client, email string) (time.Duration, error) {
		body, _ := json.Marshal(map[string]string{"email": email})
		start := time.Now()
		res, err := client.Post(b.stack.APIURL+"/auth/password-reset", "application/json", bytes.NewReader(body))
		d := time.Since(start)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			return 0, fmt.Errorf("password reset: status %d", res.StatusCode)
		}
		return d, nil
	}
	var existing, missing []time.Duration
	n := 0
	for r := 0; r < rounds; r++ {
		for i, e := range emails {
			n++
			client := fromSource(fmt.Sprintf("127.0.%d.%d", 1+n/250, 1+n%250))
			pair := []string{e, fmt.Sprintf("nobody-%s-%d@example.no", b.run, n)}
			if n%2 == 0 {
				pair[0], pair[1] = pair[1], pair[0]
			}
			for _, addr := range pair {
				d, err := timeOne(client, addr)
				if err != nil {
					return err
				}
				if addr == emails[i] {
					existing = append(existing, d)
				} else {
					missing = append(missing, d)
				}
			}
		}
	}
	me, mm := median(existing), median(missing)
	ratio := float64(max(me, mm)) / float64(min(me, mm))
	verdict := "within 1.1"
	if ratio > 1.1 {
		verdict = "**over 1.1**"
	}
	out("## Password reset\n\nPOST /auth/password-reset through the runner, %d requests for addresses with an account and %d without, interleaved (order alternating, each pair from its own source); the answer is padded to 400 ms after the request began.\n\n"+
		"| address | median | p99 |\n|---|---:|---:|\n| with an account (email sent) | %s | %s |\n| without | %s | %s |\n\nRatio of the medians: %.3f (%s).\n\n",
		len(existing), len(missing), me.Round(time.Millisecond/10), percentile(existing, 0.99).Round(time.Millisecond/10),
		mm.Round(time.Millisecond/10), percentile(missing, 0.99).Round(time.Millisecond/10), ratio, verdict)
	return nil
}

// fromSource is a client whose connections come from ip (a loopback
// address), so the runner sees a source of its own.
func fromSource(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}}
}
