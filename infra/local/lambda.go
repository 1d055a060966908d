// Package local plays AWS's part for the service's real bootstrap binaries:
// it runs each function as child processes that it serves the Lambda Runtime
// API, fronts them with the HTTP API (payload 2.0, authorizer included) and
// the Lambda Invoke API, and wires them to the emulators. Everything it knows
// about functions, routes and the table it reads from template.yaml.
package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FunctionError is an error the function itself reported (the Lambda
// X-Amz-Function-Error case), as opposed to a failure to run it.
type FunctionError struct {
	Payload []byte // {"errorMessage": ..., "errorType": ...}
}

func (e *FunctionError) Error() string {
	var p struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	json.Unmarshal(e.Payload, &p)
	return fmt.Sprintf("function error %s: %s", p.ErrorType, p.ErrorMessage)
}

// FunctionConfig is how to run one function.
type FunctionConfig struct {
	Name     string // logical id
	Binary   string // path to bootstrap
	Env      map[string]string
	Timeout  time.Duration
	MemoryMB int
	// MaxConcurrency bounds the function's processes, as reserved
	// concurrency would.
	MaxConcurrency int
	// Output receives the processes' stdout and stderr (their logs).
	Output io.Writer
}

// Function runs invocations of one function on a pool of processes. Like
// Lambda, it starts a new process (a cold start) only when every running one
// is busy, and reuses idle ones.
type Function struct {
	cfg  FunctionConfig
	log  *slog.Logger
	idle chan *instance
	sem  chan struct{} // one token per process

	mu        sync.Mutex
	instances map[*instance]bool
	stats     Stats
}

// Stats are a function's counters, for benchmarks and the runner's report.
type Stats struct {
	ColdStarts  int
	Invocations int
	// InitDurations are the times from process start to its first request
	// for work (Lambda's Init phase).
	InitDurations []time.Duration
	// FirstResponses are the times from process start to the end of its
	// first invocation.
	FirstResponses []time.Duration
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan result
}

type result struct {
	payload []byte
	fnErr   []byte
	err     error
}

type instance struct {
	fn      *Function
	cmd     *exec.Cmd
	srv     *http.Server
	started time.Time
	work    chan *invocation
	exited  chan struct{}

	mu      sync.Mutex
	current *invocation
	inits   bool // first /next seen
	served  int
}

// NewFunction prepares a function; processes start on first use.
func NewFunction(cfg FunctionConfig, log *slog.Logger) *Function {
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = 10
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	f := &Function{cfg: cfg, log: log.With("function", cfg.Name),
		idle: make(chan *instance, cfg.MaxConcurrency), sem: make(chan struct{}, cfg.MaxConcurrency),
		instances: map[*instance]bool{}}
	return f
}

// Fresh returns a new Function with the same configuration and no
// processes, so that its first invocation is a cold start.
func (f *Function) Fresh() *Function { return NewFunction(f.cfg, f.log) }

// Name is the function's logical id.
func (f *Function) Name() string { return f.cfg.Name }

// Stats returns a copy of the counters.
func (f *Function) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats
	s.InitDurations = append([]time.Duration(nil), s.InitDurations...)
	s.FirstResponses = append([]time.Duration(nil), s.FirstResponses...)
	return s
}

// Invoke runs one invocation and returns the function's response payload.
// A *FunctionError reports an error the function returned or a crash.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	inst, err := f.acquire(ctx)
	if err != nil {
		return nil, err
	}
	inv := &invocation{id: newRequestID(), payload: payload, deadline: time.Now().Add(f.cfg.Timeout), done: make(chan result, 1)}
	select {
	case inst.work <- inv:
	case <-inst.exited:
		f.discard(inst)
		return nil, fmt.Errorf("%s: process exited before the invocation", f.cfg.Name)
	}
	timer := time.NewTimer(f.cfg.Timeout)
	defer timer.Stop()
	select {
	case r := <-inv.done:
		f.mu.Lock()
		f.stats.Invocations++
		f.mu.Unlock()
		f.release(inst)
		if r.err != nil {
			return nil, r.err
		}
		if r.fnErr != nil {
			return nil, &FunctionError{Payload: r.fnErr}
		}
		return r.payload, nil
	case <-inst.exited:
		f.discard(inst)
		return nil, &FunctionError{Payload: errorPayload("Runtime.ExitError", "the function's process exited during the invocation")}
	case <-timer.C:
		// Lambda stops a function at its timeout; so do we.
		f.discard(inst)
		return nil, &FunctionError{Payload: errorPayload("Sandbox.Timedout", fmt.Sprintf("task timed out after %s", f.cfg.Timeout))}
	case <-ctx.Done():
		f.discard(inst)
		return nil, ctx.Err()
	}
}

func errorPayload(typ, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return b
}

func (f *Function) acquire(ctx context.Context) (*instance, error) {
	for {
		var inst *instance
		select {
		case inst = <-f.idle: // a warm process first
		default:
			select {
			case inst = <-f.idle:
			case f.sem <- struct{}{}:
				inst, err := f.start()
				if err != nil {
					<-f.sem
				}
				return inst, err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		select {
		case <-inst.exited:
			f.discard(inst)
		default:
			return inst, nil
		}
	}
}

func (f *Function) release(inst *instance) {
	select {
	case <-inst.exited:
		f.discard(inst)
	default:
		f.idle <- inst
	}
}

func (f *Function) discard(inst *instance) {
	f.mu.Lock()
	known := f.instances[inst]
	delete(f.instances, inst)
	f.mu.Unlock()
	if known {
		inst.stop()
		<-f.sem
	}
}

// start launches one process with its own Runtime API endpoint.
func (f *Function) start() (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(f.cfg.Binary)
	cmd.Env = f.environment(ln.Addr().String())
	out := f.cfg.Output
	if out == nil {
		out = os.Stderr
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Everything the Runtime API handlers read is set before they serve.
	inst := &instance{fn: f, cmd: cmd, work: make(chan *invocation), exited: make(chan struct{}), started: time.Now()}
	inst.srv = &http.Server{Handler: inst.runtimeAPI(), ReadHeaderTimeout: 5 * time.Second}
	go inst.srv.Serve(ln)
	if err := cmd.Start(); err != nil {
		inst.srv.Close()
		return nil, fmt.Errorf("start %s: %w", f.cfg.Binary, err)
	}
	go func() {
		cmd.Wait()
		close(inst.exited)
		inst.srv.Close()
	}()
	f.mu.Lock()
	f.instances[inst] = true
	f.stats.ColdStarts++
	f.mu.Unlock()
	return inst, nil
}

func (f *Function) environment(runtimeAPI string) []string {
	env := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"), "TZ": "UTC", "LANG": "en_US.UTF-8",
		"AWS_LAMBDA_RUNTIME_API":          runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME":        f.cfg.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(f.cfg.MemoryMB),
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"_HANDLER":                        "bootstrap",
		"AWS_EC2_METADATA_DISABLED":       "true",
	}
	for k, v := range f.cfg.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func (inst *instance) stop() {
	if inst.cmd.Process != nil {
		inst.cmd.Process.Kill()
	}
	<-inst.exited
}

// Close stops every process of the function.
func (f *Function) Close() {
	f.mu.Lock()
	insts := make([]*instance, 0, len(f.instances))
	for i := range f.instances {
		insts = append(insts, i)
	}
	f.instances = map[*instance]bool{}
	f.mu.Unlock()
	for _, i := range insts {
		i.stop()
	}
}

// runtimeAPI serves the Lambda Runtime API (2018-06-01) to one process.
func (inst *instance) runtimeAPI() http.Handler {
	const prefix = "/2018-06-01/runtime/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, prefix)
		switch {
		case r.Method == http.MethodGet && path == "invocation/next":
			inst.next(w, r)
		case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
			parts := strings.Split(strings.TrimPrefix(path, "invocation/"), "/")
			if len(parts) != 2 || (parts[1] != "response" && parts[1] != "error") {
				http.NotFound(w, r)
				return
			}
			body, _ := io.ReadAll(io.LimitReader(r.Body, 6<<20+1))
			if len(body) > 6<<20 {
				inst.finish(parts[0], result{fnErr: errorPayload("Function.ResponseSizeTooLarge", "response payload over 6 MB")})
			} else if parts[1] == "response" {
				inst.finish(parts[0], result{payload: body})
			} else {
				inst.finish(parts[0], result{fnErr: body})
			}
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodPost && path == "init/error":
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			inst.fn.log.Error("init error", "error", string(body))
			w.WriteHeader(http.StatusAccepted)
			go inst.stop()
		default:
			http.NotFound(w, r)
		}
	})
}

func (inst *instance) next(w http.ResponseWriter, r *http.Request) {
	inst.mu.Lock()
	if !inst.inits {
		inst.inits = true
		d := time.Since(inst.started)
		inst.fn.mu.Lock()
		inst.fn.stats.InitDurations = append(inst.fn.stats.InitDurations, d)
		inst.fn.mu.Unlock()
	}
	inst.mu.Unlock()
	select {
	case inv := <-inst.work:
		inst.mu.Lock()
		inst.current = inv
		inst.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-north-1:000000000000:function:"+inst.fn.cfg.Name)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+inv.id[:8]+"-"+inv.id[8:]+";Sampled=0")
		h.Set("Content-Type", "application/json")
		w.Write(inv.payload)
	case <-r.Context().Done():
	case <-inst.exited:
	}
}

func (inst *instance) finish(id string, res result) {
	inst.mu.Lock()
	inv := inst.current
	if inv == nil || inv.id != id {
		inst.mu.Unlock()
		return
	}
	inst.current = nil
	inst.served++
	first := inst.served == 1
	inst.mu.Unlock()
	if first {
		d := time.Since(inst.started)
		inst.fn.mu.Lock()
		inst.fn.stats.FirstResponses = append(inst.fn.stats.FirstResponses, d)
		inst.fn.mu.Unlock()
	}
	inv.done <- res
}

func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	s := hex.EncodeToString(b)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// ErrNoFunction is returned for an unknown function name.
var ErrNoFunction = errors.New("no such function")

// jsonBody is a small helper for handlers writing JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
