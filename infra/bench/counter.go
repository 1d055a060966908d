package main

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// requestCounter is a reverse proxy in front of DynamoDB Local that counts
// requests by operation (the X-Amz-Target header), so the figures are the
// real functions' requests, counted, not estimated. It also times them, to
// show how much of a local latency is the emulator's own.
type requestCounter struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	ops   map[string]int
	times map[string][]time.Duration // since takeTimes, by operation
}

func newRequestCounter(target string) (*requestCounter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return &requestCounter{proxy: httputil.NewSingleHostReverseProxy(u), ops: map[string]int{},
		times: map[string][]time.Duration{}}, nil
}

func (c *requestCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	start := time.Now()
	c.proxy.ServeHTTP(w, r)
	c.mu.Lock()
	c.ops[op]++
	c.times[op] = append(c.times[op], time.Since(start))
	c.mu.Unlock()
}

// takeTimes returns how long DynamoDB Local took for each call since the
// last takeTimes, by operation, and resets them.
func (c *requestCounter) takeTimes() map[string][]time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.times
	c.times = map[string][]time.Duration{}
	return out
}

// take returns the counts since the last take and resets them.
func (c *requestCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.ops
	c.ops = map[string]int{}
	return out
}
