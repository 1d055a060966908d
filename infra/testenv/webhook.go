package testenv

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Receiver is a partner's webhook endpoint for tests. It checks every
// message's signature by the published Standard Webhooks algorithm (written
// here from the specification, not shared with the service), counts
// messages it already had (by webhook-id), and can be told to fail.
type Receiver struct {
	URL string

	mu       sync.Mutex
	secrets  []string // any of these may sign
	answer   int      // status to answer (0: 204)
	hang     time.Duration
	messages []ReceivedMessage
	seen     map[string]int
	bad      []string
	arrived  chan struct{}
}

// ReceivedMessage is one accepted (verified, first-time) message.
type ReceivedMessage struct {
	ID     string
	At     time.Time
	Events []ReceivedEvent
}

// ReceivedEvent is an event as a receiver reads it.
type ReceivedEvent struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Timestamp     time.Time       `json:"timestamp"`
	ChangedFields []string        `json:"changedFields"`
	Worker        json.RawMessage `json:"worker"`
}

// NewReceiver starts a receiver that accepts messages signed with secret.
func NewReceiver(t testing.TB, secret string) *Receiver {
	r := &Receiver{secrets: []string{secret}, seen: map[string]int{}, arrived: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/hooks/onboarding"
	return r
}

// Trust replaces the secrets the receiver verifies with.
func (r *Receiver) Trust(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = secrets
}

// Answer makes the receiver answer status (0: 204) after hanging for hang.
func (r *Receiver) Answer(status int, hang time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer, r.hang = status, hang
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	status, hang := r.answer, r.hang
	r.mu.Unlock()
	if hang > 0 {
		select {
		case <-time.After(hang):
		case <-req.Context().Done():
			return
		}
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	id := req.Header.Get("webhook-id")
	if msg := r.verify(id, req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body); msg != "" {
		r.mu.Lock()
		r.bad = append(r.bad, msg)
		r.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var payload struct {
		Type string `json:"type"`
		Data struct {
			Events []ReceivedEvent `json:"events"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &payload); err != nil || payload.Type != "worker.events" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.seen[id]++
	if r.seen[id] == 1 {
		r.messages = append(r.messages, ReceivedMessage{ID: id, At: time.Now(), Events: payload.Data.Events})
	}
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
}

// verify checks a message as the Standard Webhooks specification says: the
// timestamp within five minutes, and one of the space-separated "v1,<sig>"
// signatures equal to base64(HMAC-SHA256(key, id "." timestamp "." body)),
// the key being the base64 after "whsec_".
func (r *Receiver) verify(id, ts, header string, body []byte) string {
	if id == "" || ts == "" || header == "" {
		return "missing webhook headers"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return "timestamp out of tolerance"
	}
	r.mu.Lock()
	secrets := append([]string{}, r.secrets...)
	r.mu.Unlock()
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			return "bad secret"
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "." + string(body)))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		for _, sig := range strings.Fields(header) {
			version, value, _ := strings.Cut(sig, ",")
			if version == "v1" && hmac.Equal([]byte(value), []byte(want)) {
				return ""
			}
		}
	}
	return "no valid signature"
}

// Messages are the verified messages, each once, in the order they came.
func (r *Receiver) Messages() []ReceivedMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ReceivedMessage{}, r.messages...)
}

// Events are the events of every message, in order.
func (r *Receiver) Events() []ReceivedEvent {
	var out []ReceivedEvent
	for _, m := range r.Messages() {
		out = append(out, m.Events...)
	}
	return out
}

// Duplicates counts messages that came again (the same webhook-id).
func (r *Receiver) Duplicates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.seen {
		n += c - 1
	}
	return n
}

// Rejected lists why messages failed verification.
func (r *Receiver) Rejected() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string{}, r.bad...)
}

// WaitForEvents waits until at least n events have come, or fails t.
func (r *Receiver) WaitForEvents(t testing.TB, n int, within time.Duration) []ReceivedEvent {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if evs := r.Events(); len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events after %s, want %d (rejected: %v)", len(r.Events()), within, n, r.Rejected())
		}
		select {
		case <-r.arrived:
		case <-time.After(50 * time.Millisecond):
		}
	}
}
