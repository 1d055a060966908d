package trigger

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"onboarding/shared/importjob"
	"onboarding/shared/invite"
	"onboarding/shared/redact"
)

// Schedule is the scheduler's input (events/schedule-sweep.json, the
// template's Input): its own context attributes, for the log. The ingest
// function's kick (Ingest.SendNow) sends one too.
type Schedule struct {
	ScheduledTime string `json:"scheduledTime"`
	ExecutionID   string `json:"executionId"`
	Attempt       string `json:"attempt"`
}

// SweepReport is what a run did: the invitations' sweep, and the stale
// imports.
type SweepReport struct {
	invite.SweepReport
	Imports importjob.ResumeReport `json:"imports"`
}

// Sweep handles the schedule: the sweep function.
type Sweep struct {
	// StaleImports takes up the imports whose run died (importjob.Resumer's
	// Run).
	StaleImports func(ctx context.Context) (importjob.ResumeReport, error)
	// Invitations is one run of the invitations' sweep, paced by pacer
	// (Paced).
	Invitations func(ctx context.Context, pacer invite.Pacer) (invite.SweepReport, error)
	// Pacer returns a new pacer for each run: the account's sending rate
	// and daily quota are read afresh, not once per process.
	Pacer   func() invite.Pacer
	Invoker Invoker
	Log     *slog.Logger
}

// Handle runs both steps; an error of one does not stop the other, and
// both are returned (masked) with what each did.
func (s *Sweep) Handle(ctx context.Context, t Schedule) (SweepReport, error) {
	started := time.Now()
	var out SweepReport
	var errs []error
	// Stale imports first: a few writes, done before the invitations take
	// up the run's time.
	imports, err := s.StaleImports(ctx)
	if out.Imports = imports; err != nil {
		errs = append(errs, err)
	}
	out.SweepReport, err = s.Invitations(ctx, s.Pacer())
	if err != nil {
		errs = append(errs, err)
	}
	attrs := []any{"scheduledTime", t.ScheduledTime, "executionId", t.ExecutionID, "attempt", t.Attempt,
		"report", out, "ms", time.Since(started).Milliseconds()}
	if err := errors.Join(errs...); err != nil {
		s.Log.ErrorContext(ctx, "sweep failed", append(attrs, "error", err.Error())...)
		return out, redact.Error(err)
	}
	s.Log.InfoContext(ctx, "sweep done", attrs...)
	return out, nil
}

// StartImport starts the run of a stale job's file again, as S3 starts it:
// the function that ran it, invoked asynchronously with the event for the
// object (importjob.Resumer's Start).
func (s *Sweep) StartImport(ctx context.Context, j importjob.Job) error {
	if j.Runner == "" {
		return errors.New("the import names no function to run it")
	}
	payload, err := s3Event(createdRecord(j))
	if err != nil {
		return err
	}
	return s.Invoker.InvokeAsync(ctx, j.Runner, payload)
}

// Paced runs sw with the pacer given for the run (a Sweeper's own Pacer
// would serve every run of the process).
func Paced(sw *invite.Sweeper) func(ctx context.Context, pacer invite.Pacer) (invite.SweepReport, error) {
	return func(ctx context.Context, pacer invite.Pacer) (invite.SweepReport, error) {
		run := *sw
		run.Pacer = pacer
		return run.Run(ctx)
	}
}
