package local

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"onboarding/infra/samtemplate"
)

// Scheduled is one schedule of the template, bound to its function.
type Scheduled struct {
	Function *Function
	Schedule samtemplate.Schedule
	Every    time.Duration
}

// Scheduler fires the template's schedules on their rate, as EventBridge
// Scheduler does: the schedule's input with its context attributes filled in,
// one invocation at a time per schedule (a tick that finds the previous run
// still going is skipped, as the deployed function's reserved concurrency
// of one would refuse it).
type Scheduler struct {
	Entries []Scheduled
	Log     *slog.Logger
}

var rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// ParseRate reads a rate() schedule expression. cron() and at() are not
// supported locally.
func ParseRate(expr string) (time.Duration, error) {
	m := rateExpr.FindStringSubmatch(strings.TrimSpace(expr))
	if m == nil {
		return 0, fmt.Errorf("schedule %q: only rate(N minutes|hours|days) runs locally", expr)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	if n < 1 {
		return 0, fmt.Errorf("schedule %q: the rate must be at least 1", expr)
	}
	return time.Duration(n) * unit, nil
}

// Payload is what the scheduler sends for a schedule's input at a time.
func Payload(input, scheduleName, executionID string, at time.Time, attempt int) []byte {
	if strings.TrimSpace(input) == "" {
		return []byte("{}")
	}
	return []byte(strings.NewReplacer(
		"<aws.scheduler.schedule-arn>", "arn:aws:scheduler:"+Region+":000000000000:schedule/default/"+scheduleName,
		"<aws.scheduler.scheduled-time>", at.UTC().Format(time.RFC3339),
		"<aws.scheduler.execution-id>", executionID,
		"<aws.scheduler.attempt-number>", strconv.Itoa(attempt),
	).Replace(input))
}

// Run fires every schedule until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	for _, e := range s.Entries {
		go s.loop(ctx, e)
	}
}

func (s *Scheduler) loop(ctx context.Context, e Scheduled) {
	tick := time.NewTicker(e.Every)
	defer tick.Stop()
	running := make(chan struct{}, 1)
	for {
		select {
		case <-ctx.Done():
			return
		case at := <-tick.C:
			select {
			case running <- struct{}{}:
			default:
				s.Log.Warn("schedule skipped: the previous run is still going", "function", e.Function.Name(), "schedule", e.Schedule.Name)
				continue
			}
			go func() {
				defer func() { <-running }()
				out, err := e.Function.Invoke(ctx, Payload(e.Schedule.Input, e.Schedule.Name, newRequestID(), at.Truncate(time.Second), 1))
				if err != nil {
					s.Log.Error("scheduled run failed", "function", e.Function.Name(), "schedule", e.Schedule.Name, "error", err)
					return
				}
				s.Log.Info("scheduled run", "function", e.Function.Name(), "schedule", e.Schedule.Name, "result", string(out))
			}()
		}
	}
}
