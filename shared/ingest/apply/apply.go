// Package apply applies a roster's rows to an organisation: it invites new
// people, updates members and pending invitations, removes those a row (or
// a full roster) no longer lists, each within what the uploader may do.
// Reading the file is roster's job, running an import ingest's.
package apply

import (
	"context"
	"slices"
	"strings"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/locale"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
	"onboarding/shared/roster"
)

// Store is what applying a roster needs of storage.
type Store interface {
	Actor(ctx context.Context, orgID, userID string) (org.Organisation, *org.Member, error)
	ListUnits(ctx context.Context, orgID string) ([]org.Unit, error)
	AccountByEmail(ctx context.Context, email string) (*account.Account, error)
	Member(ctx context.Context, orgID, userID string) (*org.Member, error)
	PendingInvitation(ctx context.Context, orgID, email string) (*invite.Invitation, error)
	UpdatePendingInvitation(ctx context.Context, old, updated invite.Invitation, e audit.Entry) error
	UpdateMember(ctx context.Context, old, updated org.Member, e audit.Entry) error
	RemoveMember(ctx context.Context, m org.Member, e audit.Entry) error
	Revoke(ctx context.Context, inv invite.Invitation, at, expireAt time.Time, e audit.Entry) error
	MonitoringProfile(ctx context.Context, orgID, userID string) (*monitor.Record, error)
	PutMonitoringProfile(ctx context.Context, r monitor.Record, e audit.Entry) error
	ListMembers(ctx context.Context, orgID, role, unit string, limit int, cursor string) ([]org.Member, string, error)
	ListInvitations(ctx context.Context, orgID string, status invite.Status, limit int, cursor string, now time.Time) ([]invite.Invitation, string, error)
	// RosterLookup tells which emails belong to an account or a pending
	// invitation in the organisation.
	RosterLookup(ctx context.Context, orgID string, emails []string) (map[string]bool, error)
}

// Applier applies roster rows to an organisation.
type Applier struct {
	Store   Store
	Invites *invite.Service
	Phones  monitor.PhoneParser
	// RetentionDays is how long revoked invitations are kept (default 90).
	RetentionDays int
	Now           func() time.Time
}

// Session is one import's context: the organisation, who acts, and the
// rules rows are read by.
type Session struct {
	Org        org.Organisation
	Actor      access.Actor
	UploaderID string // "" when an operator dropped the file into the bucket
	Rules      roster.Rules
}

// Begin prepares an import into orgID on behalf of uploaderID (who must be
// a member whose role may invite), or of the organisation itself for a file
// dropped into the bucket (uploaderID "").
func (a *Applier) Begin(ctx context.Context, orgID, uploaderID string) (*Session, error) {
	o, m, err := a.Store.Actor(ctx, orgID, uploaderID)
	if err != nil {
		return nil, err
	}
	if o.ID == "" {
		return nil, fault.New(fault.NotFound, "no organisation %s", orgID)
	}
	s := &Session{Org: o, UploaderID: uploaderID, Actor: access.Actor{UserID: audit.System, OrgID: orgID, Role: access.Owner}}
	if uploaderID != "" {
		if m == nil {
			return nil, fault.New(fault.Forbidden, "the uploader is not a member of this organisation")
		}
		s.Actor = access.Actor{UserID: uploaderID, OrgID: orgID, Role: m.Role, Units: m.Units}
		if !o.Roles.Can(s.Actor, access.ImportRosters) {
			return nil, fault.New(fault.Forbidden, "the uploader's role may not import rosters")
		}
	}
	units, err := a.Store.ListUnits(ctx, orgID)
	if err != nil {
		return nil, err
	}
	byName := map[string]string{}
	for _, u := range units {
		byName[org.NameKey(u.Name)] = u.ID
		byName[u.ID] = u.ID
	}
	// A row without a role gets "member" or, in a table without it, the
	// first monitored role (the lone workers a roster is mostly of).
	defaultRole := access.Member
	if _, ok := o.Roles.Find(access.Member); !ok && len(o.Roles.MonitoredKeys()) > 0 {
		defaultRole = o.Roles.MonitoredKeys()[0]
	}
	s.Rules = roster.Rules{
		Phones: a.Phones, Region: o.Settings.DefaultPhoneRegion, DateOrder: o.DateOrder(), Today: a.Now(), DefaultRole: defaultRole,
		Role:   o.Roles.Resolve,
		Fields: o.Settings.CustomFields,
		Unit:   func(n string) (string, bool) { id, ok := byName[org.NameKey(n)]; return id, ok },
		// The monitored roles' holders are the lone workers the monitoring
		// partner watches over.
		Monitored: o.Roles.Monitored,
	}
	return s, nil
}

// Apply applies one row and says what came of it. Rows are independent: an
// error in one is its own outcome, never the import's.
func (a *Applier) Apply(ctx context.Context, s *Session, row roster.Row) roster.ReportLine {
	line, warnings, ok := checked(row)
	if !ok {
		return line
	}
	var outcome string
	var said roster.Note
	var err error
	if row.Change == roster.Remove {
		outcome, said, err = a.remove(ctx, s, row)
	} else {
		outcome, said, err = a.upsert(ctx, s, row)
	}
	return finished(line, warnings, outcome, said, err)
}

// ApplyAll applies a run of rows and says what came of each, in order, as
// Apply would. New people (neither an account nor a pending invitation in
// the organisation) are invited many to a write; everyone else, and anyone
// the batch could not settle, row by row.
func (a *Applier) ApplyAll(ctx context.Context, s *Session, rows []roster.Row) []roster.ReportLine {
	lines := make([]roster.ReportLine, len(rows))
	done := make([]bool, len(rows))
	var candidates []int
	var emails []string
	seen := map[string]bool{}
	for i, row := range rows {
		if line, _, ok := checked(row); !ok {
			lines[i], done[i] = line, true
			continue
		}
		if row.Change != roster.Remove && row.Email != "" && !seen[row.Email] && (!row.Monitored || row.ProfileGiven) {
			seen[row.Email] = true
			candidates = append(candidates, i)
			emails = append(emails, row.Email)
		}
	}
	if len(candidates) > 0 {
		if known, err := a.Store.RosterLookup(ctx, s.Org.ID, emails); err == nil {
			a.inviteNew(ctx, s, rows, candidates, known, lines, done)
		}
		// A failed lookup leaves every row to the row-by-row path.
	}
	for i, row := range rows {
		if !done[i] {
			lines[i] = a.Apply(ctx, s, row)
		}
	}
	return lines
}

// inviteNew invites the candidates the lookup does not know in one batch.
func (a *Applier) inviteNew(ctx context.Context, s *Session, rows []roster.Row, candidates []int, known map[string]bool,
	lines []roster.ReportLine, done []bool) {
	var fresh []int
	var entries []invite.RosterEntry
	for _, i := range candidates {
		if !known[rows[i].Email] {
			fresh = append(fresh, i)
			entries = append(entries, invite.RosterEntry{Request: a.request(rows[i]), Profile: profileOf(rows[i])})
		}
	}
	if len(fresh) == 0 {
		return
	}
	_, errs, err := a.Invites.InviteNewFromRoster(ctx, s.UploaderID, s.Org.ID, entries)
	for j, i := range fresh {
		rowErr := err
		if err == nil {
			rowErr = errs[j]
		}
		if fault.CodeOf(rowErr) == fault.Conflict {
			continue // invited meanwhile: the row-by-row path updates that invitation
		}
		line, warnings, _ := checked(rows[i])
		lines[i], done[i] = finished(line, warnings, roster.Created, roster.Note{Key: "invited"}, rowErr), true
	}
}

// checked starts a row's report line from the problems reading found: not
// ok when one of them is an error.
func checked(row roster.Row) (line roster.ReportLine, warnings []roster.Note, ok bool) {
	line = roster.ReportLine{Row: row.Line, Email: row.Email}
	var problems []roster.Note
	for _, n := range roster.NotesOf(row.Problems) {
		if n.Warning {
			warnings = append(warnings, n)
		} else {
			problems = append(problems, n)
		}
	}
	if len(problems) > 0 {
		line.Outcome, line.Notes = roster.Failed, problems
		return said(line), nil, false
	}
	return line, warnings, true
}

// finished completes a report line with what applying the row came to.
func finished(line roster.ReportLine, warnings []roster.Note, outcome string, n roster.Note, err error) roster.ReportLine {
	if err != nil {
		line.Outcome, line.Notes = roster.Failed, ErrorNotes(err)
		return said(line)
	}
	line.Outcome, line.Notes = outcome, nil
	if n.Key != "" {
		line.Notes = append(line.Notes, n)
	}
	line.Notes = append(line.Notes, warnings...)
	return said(line)
}

// english says report lines in English (their Message, for the log and
// the import's status).
var english = func() locale.Printer {
	p, err := roster.ReportPrinter(locale.Fallback)
	if err != nil {
		panic(err) // the catalogue is embedded: only a broken build fails
	}
	return p
}()

// said sets the line's English Message from its notes.
func said(line roster.ReportLine) roster.ReportLine {
	line.Message = line.Text(english)
	return line
}

// ErrorNotes say an error as notes: an expected one by its message (and
// its fields'), anything else as an internal error (the detail goes to the
// log).
func ErrorNotes(err error) []roster.Note {
	e, ok := fault.As(err)
	if !ok || e.Code == fault.Internal {
		return []roster.Note{{Key: "internal"}}
	}
	key, args := roster.NoteFor(e.Message)
	notes := []roster.Note{{Key: key, Args: args}}
	for _, f := range e.Fields {
		key, args := roster.NoteFor(f.Message)
		notes = append(notes, roster.Note{Key: key, Column: f.Field, Args: args})
	}
	return notes
}

// ReportMessage is what a report says of an error: the message of an
// expected one, a generic line for anything else (the detail goes to the
// log).
func ReportMessage(err error) string {
	if e, ok := fault.As(err); ok && e.Code != fault.Internal {
		msg := e.Message
		for _, f := range e.Fields {
			msg += "; " + f.Field + ": " + f.Message
		}
		return msg
	}
	return "could not be applied (an internal error; the row can be imported again)"
}

func (a *Applier) now() time.Time { return a.Now().UTC().Truncate(time.Second) }

// memberByEmail returns the organisation's member with this email, or nil.
func (a *Applier) memberByEmail(ctx context.Context, orgID, email string) (*org.Member, error) {
	acct, err := a.Store.AccountByEmail(ctx, email)
	if err != nil || acct == nil {
		return nil, err
	}
	return a.Store.Member(ctx, orgID, acct.UserID)
}

func (a *Applier) upsert(ctx context.Context, s *Session, row roster.Row) (string, roster.Note, error) {
	m, err := a.memberByEmail(ctx, s.Org.ID, row.Email)
	if err != nil {
		return "", roster.Note{}, err
	}
	if m != nil {
		return a.updateMember(ctx, s, row, *m)
	}
	pending, err := a.Store.PendingInvitation(ctx, s.Org.ID, row.Email)
	if err != nil {
		return "", roster.Note{}, err
	}
	if pending != nil {
		return a.updateInvitation(ctx, s, row, *pending)
	}
	if row.Monitored && !row.ProfileGiven {
		return "", roster.Note{}, fault.New(fault.Invalid, "a monitored worker needs a mobile number and at least %d escalation contacts", monitor.MinEscalationContacts)
	}
	inv, err := a.Invites.InviteFromRoster(ctx, s.UploaderID, s.Org.ID, a.request(row), profileOf(row))
	if err != nil {
		return "", roster.Note{}, err
	}
	if inv.Status == invite.Accepted {
		return roster.Created, roster.Note{Key: "added"}, nil
	}
	return roster.Created, roster.Note{Key: "invited"}, nil
}

// request is the invitation a row asks for.
func (a *Applier) request(row roster.Row) invite.Request {
	req := invite.Request{Email: row.Email, FirstName: row.FirstName, LastName: row.LastName, Phone: row.Mobile,
		Language: row.Language, Role: row.Role, Attributes: row.Attributes}
	if row.UnitID != "" {
		req.Units = []string{row.UnitID}
	}
	return req
}

// profileOf is the monitoring profile a row gives a monitored worker (nil
// for anyone else).
func profileOf(row roster.Row) *monitor.Profile {
	if !row.Monitored || !row.ProfileGiven {
		return nil
	}
	p := row.Profile
	return &p
}

// updateMember changes what the row changes of a member: role and unit when
// the row names them, and the monitoring profile.
func (a *Applier) updateMember(ctx context.Context, s *Session, row roster.Row, m org.Member) (string, roster.Note, error) {
	if err := s.Org.Roles.CheckInvite(s.Actor, m.Role, m.Units); err != nil {
		return "", roster.Note{}, err
	}
	updated := m
	if row.RoleSet {
		updated.Role = row.Role
	}
	if row.UnitSet {
		updated.Units = []string{row.UnitID}
	}
	var changed []string
	if updated.Role != m.Role || !slices.Equal(updated.Units, m.Units) {
		if err := s.Org.Roles.CheckInvite(s.Actor, updated.Role, updated.Units); err != nil {
			return "", roster.Note{}, err
		}
		e := audit.New(s.Org.ID, s.Actor.UserID, audit.MemberUpdated, "member", m.UserID, a.now()).
			Changed(map[string]any{"role": m.Role, "units": m.Units}, map[string]any{"role": updated.Role, "units": updated.Units})
		if err := a.Store.UpdateMember(ctx, m, updated, e); err != nil {
			return "", roster.Note{}, err
		}
		changed = append(changed, "roleUnit")
	}
	if row.Monitored && row.ProfileGiven && s.Rules.Monitored(updated.Role) {
		rec, err := a.Store.MonitoringProfile(ctx, s.Org.ID, m.UserID)
		if err != nil {
			return "", roster.Note{}, err
		}
		current := monitor.Record{}
		if rec != nil {
			current = *rec
		}
		if fields := monitor.Changed(current.Profile, row.Profile); rec == nil || len(fields) > 0 {
			next := monitor.Record{OrgID: s.Org.ID, UserID: m.UserID, Profile: row.Profile, Version: current.Version + 1,
				UpdatedAt: a.now(), UpdatedBy: s.Actor.UserID}
			e := audit.New(s.Org.ID, s.Actor.UserID, audit.MonitoringUpdated, "member", m.UserID, a.now()).
				Changed(nil, map[string]any{"changed": fields, "version": next.Version})
			if err := a.Store.PutMonitoringProfile(ctx, next, e); err != nil {
				return "", roster.Note{}, err
			}
			changed = append(changed, "monitoring")
		}
	}
	if len(changed) == 0 {
		return roster.Unchanged, roster.Note{}, nil
	}
	return roster.Updated, roster.Note{Key: "updated", Args: map[string]string{"Changes": strings.Join(changed, " ")}}, nil
}

// updateInvitation brings a pending invitation in line with the row.
func (a *Applier) updateInvitation(ctx context.Context, s *Session, row roster.Row, inv invite.Invitation) (string, roster.Note, error) {
	if err := s.Org.Roles.CheckInvite(s.Actor, inv.Role, inv.Units); err != nil {
		return "", roster.Note{}, err
	}
	updated := inv
	updated.FirstName, updated.LastName = row.FirstName, row.LastName
	if row.Mobile != "" {
		updated.Phone = row.Mobile
	}
	if row.Language != "" {
		updated.Language = row.Language
	}
	if row.RoleSet {
		updated.Role = row.Role
	}
	if row.UnitSet {
		updated.Units = []string{row.UnitID}
	}
	if row.AttributesGiven {
		updated.Attributes = row.Attributes
	}
	profileChange := row.Monitored && row.ProfileGiven && s.Rules.Monitored(updated.Role)
	if profileChange {
		p := row.Profile
		updated.Profile = &p
	}
	var fields []string
	for name, differs := range map[string]bool{
		"name":         updated.FirstName != inv.FirstName || updated.LastName != inv.LastName,
		"mobile":       updated.Phone != inv.Phone,
		"language":     updated.Language != inv.Language,
		"roleUnit":     updated.Role != inv.Role || !slices.Equal(updated.Units, inv.Units),
		"customFields": !org.SameAttributes(updated.Attributes, inv.Attributes),
		"monitoring":   profileChange && (inv.Profile == nil || len(monitor.Changed(*inv.Profile, *updated.Profile)) > 0),
	} {
		if differs {
			fields = append(fields, name)
		}
	}
	if len(fields) == 0 {
		return roster.Unchanged, roster.Note{Key: "invitation.pending"}, nil
	}
	slices.Sort(fields)
	if err := s.Org.Roles.CheckInvite(s.Actor, updated.Role, updated.Units); err != nil {
		return "", roster.Note{}, err
	}
	e := audit.New(s.Org.ID, s.Actor.UserID, audit.InvitationUpdated, "invitation", inv.ID, a.now()).
		Changed(nil, map[string]any{"changed": fields})
	if err := a.Store.UpdatePendingInvitation(ctx, inv, updated, e); err != nil {
		return "", roster.Note{}, err
	}
	return roster.Updated, roster.Note{Key: "invitation.updated", Args: map[string]string{"Changes": strings.Join(fields, " ")}}, nil
}

// remove removes a member, or revokes a pending invitation.
func (a *Applier) remove(ctx context.Context, s *Session, row roster.Row) (string, roster.Note, error) {
	m, err := a.memberByEmail(ctx, s.Org.ID, row.Email)
	if err != nil {
		return "", roster.Note{}, err
	}
	if m != nil {
		if err := s.Org.Roles.CheckInvite(s.Actor, m.Role, m.Units); err != nil {
			return "", roster.Note{}, err
		}
		e := audit.New(s.Org.ID, s.Actor.UserID, audit.MemberRemoved, "member", m.UserID, a.now()).
			Changed(map[string]any{"role": m.Role, "units": m.Units, "email": m.Email}, nil)
		if err := a.Store.RemoveMember(ctx, *m, e); err != nil {
			return "", roster.Note{}, err
		}
		return roster.Removed, roster.Note{Key: "removed"}, nil
	}
	inv, err := a.Store.PendingInvitation(ctx, s.Org.ID, row.Email)
	if err != nil {
		return "", roster.Note{}, err
	}
	if inv == nil {
		return roster.Unchanged, roster.Note{Key: "nothingToRemove"}, nil
	}
	if err := s.Org.Roles.CheckInvite(s.Actor, inv.Role, inv.Units); err != nil {
		return "", roster.Note{}, err
	}
	now := a.now()
	e := audit.New(s.Org.ID, s.Actor.UserID, audit.InvitationRevoked, "invitation", inv.ID, now).
		Changed(map[string]any{"status": invite.Pending}, map[string]any{"status": invite.Revoked})
	if err := a.Store.Revoke(ctx, *inv, now, now.Add(invite.Retention(a.RetentionDays)), e); err != nil {
		return "", roster.Note{}, err
	}
	return roster.Removed, roster.Note{Key: "revoked"}, nil
}

// MonitoredPeople are the organisation's monitored workers the session's
// actor can manage (members and pending invitations), by email: the people
// a full roster covers.
func (a *Applier) MonitoredPeople(ctx context.Context, s *Session) (map[string]bool, error) {
	people := map[string]bool{}
	for _, role := range s.Org.Roles.MonitoredKeys() {
		for cursor := ""; ; {
			ms, next, err := a.Store.ListMembers(ctx, s.Org.ID, role, "", 100, cursor)
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				if s.Rules.Monitored(m.Role) && s.Org.Roles.CheckInvite(s.Actor, m.Role, m.Units) == nil {
					people[m.Email] = true
				}
			}
			if cursor = next; cursor == "" {
				break
			}
		}
	}
	cursor := ""
	for {
		invs, next, err := a.Store.ListInvitations(ctx, s.Org.ID, invite.Pending, 100, cursor, a.Now())
		if err != nil {
			return nil, err
		}
		for _, inv := range invs {
			if s.Rules.Monitored(inv.Role) && s.Org.Roles.CheckInvite(s.Actor, inv.Role, inv.Units) == nil {
				people[inv.Email] = true
			}
		}
		if cursor = next; cursor == "" {
			return people, nil
		}
	}
}

// RemoveMissing removes someone a full roster no longer lists.
func (a *Applier) RemoveMissing(ctx context.Context, s *Session, email string) roster.ReportLine {
	outcome, n, err := a.remove(ctx, s, roster.Row{Email: email, Change: roster.Remove})
	if err != nil {
		return said(roster.ReportLine{Email: email, Outcome: roster.Failed,
			Notes: append([]roster.Note{{Key: "missing.failed"}}, ErrorNotes(err)...)})
	}
	line := roster.ReportLine{Email: email, Outcome: outcome, Notes: []roster.Note{n}}
	if outcome == roster.Removed {
		line.Notes = []roster.Note{{Key: "missing"}, n}
	}
	return said(line)
}
