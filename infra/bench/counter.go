package main

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// requestCounter is a reverse proxy in front of DynamoDB Local that counts
// requests by operation (the X-Amz-Target header), so the figures are the
// real functions' requests, counted, not estimated.
type requestCounter struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	ops   map[string]int
}

func newRequestCounter(target string) (*requestCounter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return &requestCounter{proxy: httputil.NewSingleHostReverseProxy(u), ops: map[string]int{}}, nil
}

func (c *requestCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	c.mu.Lock()
	c.ops[op]++
	c.mu.Unlock()
	c.proxy.ServeHTTP(w, r)
}

// take returns the counts since the last take and resets them.
func (c *requestCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.ops
	c.ops = map[string]int{}
	return out
}
