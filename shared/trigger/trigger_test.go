package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"onboarding/shared/redact"
)

// readEvent reads a sample from events/, the folder `sam local invoke -e`
// reads too, and checks that v, decoding it, loses none of its fields.
func readEvent(t *testing.T, name string, v any) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	back, _ := json.Marshal(v)
	var want, got any
	json.Unmarshal(raw, &want)
	json.Unmarshal(back, &got)
	if !contains(got, want) {
		t.Fatalf("%s: a field is lost in its Go type:\n%s\n%s", name, raw, back)
	}
	return raw
}

// contains reports whether every field of want is in got with the same
// value (the Go types add empty optional fields of their own).
func contains(got, want any) bool {
	wm, ok := want.(map[string]any)
	if !ok {
		if ws, ok := want.([]any); ok {
			gs, ok := got.([]any)
			if !ok || len(gs) != len(ws) {
				return false
			}
			for i := range ws {
				if !contains(gs[i], ws[i]) {
					return false
				}
			}
			return true
		}
		return reflect.DeepEqual(got, want)
	}
	gm, ok := got.(map[string]any)
	if !ok {
		return false
	}
	for k, wv := range wm {
		if !contains(gm[k], wv) {
			return false
		}
	}
	return true
}

// invocation is one call of the fake invoker.
type invocation struct {
	function string
	payload  []byte
	// The context's state when called.
	ctxErr   error
	deadline time.Time
}

type fakeInvoker struct {
	calls []invocation
	err   error
}

func (f *fakeInvoker) InvokeAsync(ctx context.Context, function string, payload []byte) error {
	deadline, _ := ctx.Deadline()
	f.calls = append(f.calls, invocation{function, payload, ctx.Err(), deadline})
	return f.err
}

// logs is a logger as the functions have it (masking what it writes), and
// what it wrote.
func logs() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(redact.NewHandler(slog.NewJSONHandler(&buf, nil))), &buf
}

// lines are the log lines with message msg, decoded.
func lines(t *testing.T, buf *bytes.Buffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// An address the tests put in errors: neither the returned error nor the
// log may show it.
const address = "kari.nordmann@example.no"
