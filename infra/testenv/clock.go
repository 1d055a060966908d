package testenv

import (
	"sync"
	"time"
)

// Clock is a clock tests move by hand (safe for concurrent use).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at now, to the second.
func NewClock() *Clock { return &Clock{t: time.Now().UTC().Truncate(time.Second)} }

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
