package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// requestCounter is a reverse proxy in front of DynamoDB Local that counts
// requests by operation (the X-Amz-Target header), so the figures are the
// real functions' requests, counted, not estimated. It asks DynamoDB Local
// to report consumed capacity on every request and sums it, and it times
// the calls to show how much of a local latency is the emulator's own.
type requestCounter struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	ops   map[string]int
	rcu   float64 // read capacity units since take
	wcu   float64 // write capacity units since take
	items int     // items returned by reads since take
	// opItems are the items returned by reads since takeItems, by
	// operation.
	opItems map[string]int
	times   map[string][]time.Duration
}

func newRequestCounter(target string) (*requestCounter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	c := &requestCounter{ops: map[string]int{}, times: map[string][]time.Duration{}, opItems: map[string]int{}}
	c.proxy = httputil.NewSingleHostReverseProxy(u)
	c.proxy.ModifyResponse = c.capacity
	return c, nil
}

func operation(r *http.Request) string {
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	return op
}

func (c *requestCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := operation(r)
	// Ask for the consumed capacity (the SDK ignores fields it did not ask
	// for, and DynamoDB Local does not check request signatures).
	body, _ := io.ReadAll(r.Body)
	var req map[string]any
	if json.Unmarshal(body, &req) == nil && op != "CreateTable" && op != "UpdateTimeToLive" && op != "DeleteTable" {
		req["ReturnConsumedCapacity"] = "TOTAL"
		body, _ = json.Marshal(req)
	}
	if op == "TransactWriteItems" {
		// DynamoDB Local reports a flat 8 units for any transaction (1 item
		// or 100): count what DynamoDB charges instead.
		w := transactionUnits(req)
		c.mu.Lock()
		c.wcu += w
		c.mu.Unlock()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	start := time.Now()
	c.proxy.ServeHTTP(w, r)
	c.mu.Lock()
	c.ops[op]++
	c.times[op] = append(c.times[op], time.Since(start))
	c.mu.Unlock()
}

// capacity sums the ConsumedCapacity a response reports.
func (c *requestCounter) capacity(res *http.Response) error {
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	var read struct {
		Count, ScannedCount int
		Item                map[string]any
		Responses           map[string][]any
	}
	if json.Unmarshal(body, &read) == nil {
		// What a Query or Scan read, before its filter: ScannedCount.
		n := max(read.Count, read.ScannedCount)
		if read.Item != nil {
			n++
		}
		for _, items := range read.Responses {
			n += len(items)
		}
		c.mu.Lock()
		c.items += n
		c.opItems[operation(res.Request)] += n
		c.mu.Unlock()
	}
	var out struct {
		ConsumedCapacity json.RawMessage
	}
	if json.Unmarshal(body, &out) != nil || len(out.ConsumedCapacity) == 0 {
		return nil
	}
	type cap struct {
		CapacityUnits, ReadCapacityUnits, WriteCapacityUnits float64
	}
	var caps []cap
	if out.ConsumedCapacity[0] == '[' {
		json.Unmarshal(out.ConsumedCapacity, &caps)
	} else {
		var one cap
		json.Unmarshal(out.ConsumedCapacity, &one)
		caps = []cap{one}
	}
	op := operation(res.Request)
	if op == "TransactWriteItems" {
		return nil // counted from the request
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range caps {
		r, w := k.ReadCapacityUnits, k.WriteCapacityUnits
		if r == 0 && w == 0 { // only the total is reported: attribute it by operation
			if strings.Contains(op, "Get") || op == "Query" || op == "Scan" {
				r = k.CapacityUnits
			} else {
				w = k.CapacityUnits
			}
		}
		c.rcu += r
		c.wcu += w
	}
	return nil
}

// take returns the counts and capacity since the last take and resets them.
func (c *requestCounter) take() (map[string]int, float64, float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops, rcu, wcu := c.ops, c.rcu, c.wcu
	c.ops, c.rcu, c.wcu, c.items = map[string]int{}, 0, 0, 0
	return ops, rcu, wcu
}

// itemsRead returns the items read since the last take.
func (c *requestCounter) itemsRead() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.items
}

// takeItems returns the items read since the last takeItems, by
// operation, and resets them.
func (c *requestCounter) takeItems() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.opItems
	c.opItems = map[string]int{}
	return out
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

// transactionUnits is what DynamoDB charges for a TransactWriteItems
// request: 2 write units per KB (rounded up) of each item. A Put's size is
// estimated from its attributes (names and values as sent); an Update,
// Delete or ConditionCheck is counted as an item of up to 1 KB, which the
// items this service updates in transactions (guards, counters, queue
// markers) are, the invitation apart (an underestimate there).
func transactionUnits(req map[string]any) float64 {
	items, _ := req["TransactItems"].([]any)
	units := 0.0
	for _, it := range items {
		m, _ := it.(map[string]any)
		kb := 1
		if put, ok := m["Put"].(map[string]any); ok {
			b, _ := json.Marshal(put["Item"])
			kb = (len(b) + 1023) / 1024
		}
		units += 2 * float64(kb)
	}
	return units
}
