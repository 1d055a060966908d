package membership

import (
	"context"
	"fmt"
	"time"

	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/monitor"
)

// MonitoringStore is what monitoring profiles need of storage.
type MonitoringStore interface {
	// MonitoringProfile reads a member's profile, or nil.
	MonitoringProfile(ctx context.Context, orgID, userID string) (*monitor.Record, error)
	// PutMonitoringProfile stores r if the stored version is still
	// r.Version-1 (absent for 1) and the member exists; else Conflict.
	PutMonitoringProfile(ctx context.Context, r monitor.Record, e audit.Entry) error
}

// MonitoringChange is a PUT of a profile. SafeWord nil keeps the one
// stored; "" removes it. Version, when given, must be the version read.
type MonitoringChange struct {
	EscalationContacts []monitor.Contact `json:"escalationContacts"`
	OutOfHoursContacts []monitor.Contact `json:"outOfHoursContacts"`
	Rota               *struct {
		Reference     string `json:"reference"`
		EffectiveDate string `json:"effectiveDate"`
	} `json:"rota"`
	SafeWord         *string `json:"safeWord"`
	LicencePlate     string  `json:"licencePlate"`
	OtherInformation string  `json:"otherInformation"`
	Version          *int    `json:"version"`
}

// Saved is a stored profile and what is worth knowing about it.
type Saved struct {
	monitor.View
	Warnings []fault.FieldError `json:"warnings"`
}

// Monitoring returns a member's monitoring profile: to the member, and to
// those who may read lists and see the member.
func (s *Service) Monitoring(ctx context.Context, userID, orgID, targetID string) (monitor.View, error) {
	o, actor, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return monitor.View{}, err
	}
	if targetID != actor.UserID {
		if r, ok := o.Roles.Find(actor.Role); !ok || !r.ReadLists {
			return monitor.View{}, fault.New(fault.Forbidden, "your role may not see monitoring profiles")
		}
	}
	m, err := s.Store.Member(ctx, orgID, targetID)
	if err != nil {
		return monitor.View{}, err
	}
	if m == nil || !sees(actor, *m) {
		return monitor.View{}, fault.New(fault.NotFound, "no such member")
	}
	rec, err := s.Monitor.MonitoringProfile(ctx, orgID, targetID)
	if err != nil {
		return monitor.View{}, err
	}
	return monitor.ViewOf(targetID, rec), nil
}

// SetMonitoring replaces a member's monitoring profile, checked by the same
// rules as a roster row. Those who may manage the member may set it.
func (s *Service) SetMonitoring(ctx context.Context, userID, orgID, targetID string, c MonitoringChange) (Saved, error) {
	o, _, m, err := s.target(ctx, userID, orgID, targetID)
	if err != nil {
		return Saved{}, err
	}
	old, err := s.Monitor.MonitoringProfile(ctx, orgID, targetID)
	if err != nil {
		return Saved{}, err
	}
	current := monitor.Record{OrgID: orgID, UserID: targetID}
	if old != nil {
		current = *old
	}
	if c.Version != nil && *c.Version != current.Version {
		return Saved{}, fault.New(fault.Conflict, "the profile changed since version %d (now %d); reload it", *c.Version, current.Version)
	}
	in := monitor.Input{EscalationContacts: c.EscalationContacts, OutOfHoursContacts: c.OutOfHoursContacts,
		SafeWord: current.SafeWord, LicencePlate: c.LicencePlate, OtherInformation: c.OtherInformation}
	if c.SafeWord != nil {
		in.SafeWord = *c.SafeWord
	}
	if c.Rota != nil {
		in.RotaReference, in.RotaEffectiveDate = c.Rota.Reference, c.Rota.EffectiveDate
	}
	now := s.Now().UTC().Truncate(time.Second)
	var errs, warns fault.Fields
	p := monitor.Check(in, monitor.Rules{Phones: s.Phones, Region: o.Settings.DefaultPhoneRegion, WorkerPhone: m.Phone,
		Today: now, DateOrder: o.DateOrder()}, &errs, &warns)
	if err := errs.Err(); err != nil {
		return Saved{}, err
	}
	rec := monitor.Record{OrgID: orgID, UserID: targetID, Profile: p, Version: current.Version + 1, UpdatedAt: now, UpdatedBy: userID}
	changed := monitor.Changed(current.Profile, p)
	if old != nil && len(changed) == 0 {
		return Saved{View: monitor.ViewOf(targetID, old), Warnings: warnList(warns)}, nil
	}
	e := audit.New(orgID, userID, audit.MonitoringUpdated, "member", targetID, now).
		Changed(nil, map[string]any{"changed": changed, "version": rec.Version})
	if err := s.Monitor.PutMonitoringProfile(ctx, rec, e); err != nil {
		return Saved{}, fmt.Errorf("save monitoring profile of %s: %w", targetID, err)
	}
	return Saved{View: monitor.ViewOf(targetID, &rec), Warnings: warnList(warns)}, nil
}

func warnList(w fault.Fields) []fault.FieldError {
	if w == nil {
		return []fault.FieldError{}
	}
	return w
}
