package org

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
)

// Store is what unit and settings management needs of storage.
type Store interface {
	Actor(ctx context.Context, orgID, userID string) (Organisation, *Member, error)
	// CreateUnit stores a unit whose name (by NameKey) is new in the
	// organisation; else Conflict.
	CreateUnit(ctx context.Context, orgID string, u Unit, e audit.Entry) error
	ListUnits(ctx context.Context, orgID string) ([]Unit, error)
	// Unit reads one unit, or returns NotFound.
	Unit(ctx context.Context, orgID, unitID string) (Unit, error)
	// RenameUnit renames a unit, keeping names unique; NotFound or Conflict.
	RenameUnit(ctx context.Context, orgID string, old Unit, name string, e audit.Entry) (Unit, error)
	// UnitInUse reports whether any member or pending invitation is in the unit.
	UnitInUse(ctx context.Context, orgID, unitID string) (bool, error)
	DeleteUnit(ctx context.Context, orgID string, u Unit, e audit.Entry) error
	// AuditTrail returns a page of audit entries, newest first.
	AuditTrail(ctx context.Context, orgID string, limit int, cursor string) ([]audit.Entry, string, error)
	// UpdateSettings stores an organisation's settings.
	UpdateSettings(ctx context.Context, orgID string, s Settings, e audit.Entry) error
}

// Service manages an organisation's units and settings.
type Service struct {
	Store Store
	Now   func() time.Time
	// Languages are the languages emails can be written in (for checking
	// email template overrides).
	Languages []string
}

// ActorStore loads an organisation and one person's membership of it.
type ActorStore interface {
	Actor(ctx context.Context, orgID, userID string) (Organisation, *Member, error)
}

// ResolveActor returns the organisation and who userID is in it, as their
// membership says now; someone who is no member gets 403. Every admin action
// starts here, so a removed member is refused on their next request.
func ResolveActor(ctx context.Context, store ActorStore, orgID, userID string) (Organisation, access.Actor, error) {
	o, m, err := store.Actor(ctx, orgID, userID)
	if err != nil {
		return o, access.Actor{}, fmt.Errorf("load actor in org %s: %w", orgID, err)
	}
	if m == nil {
		return o, access.Actor{}, fault.New(fault.Forbidden, "you are not a member of this organisation")
	}
	return o, access.Actor{UserID: userID, OrgID: orgID, Role: m.Role, Units: m.Units}, nil
}

func (s *Service) actor(ctx context.Context, orgID, userID string) (Organisation, access.Actor, error) {
	return ResolveActor(ctx, s.Store, orgID, userID)
}

// mayConfigure checks that the actor's role may configure units and that
// it is organisation-wide or, with unitID, scoped to that unit.
func mayConfigure(o Organisation, a access.Actor, unitID string) error {
	r, ok := o.Roles.Find(a.Role)
	if !ok || !r.ConfigureUnits {
		return fault.New(fault.Forbidden, "your role may not configure units")
	}
	if a.OrgWide() || (unitID != "" && slices.Contains(a.Units, unitID)) {
		return nil
	}
	return fault.New(fault.Forbidden, "only organisation-wide coordinators and admins may do this")
}

func newUnitID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func invalid(field string, err error) error {
	var errs fault.Fields
	if e, ok := fault.As(err); ok {
		errs.Add(field, string(e.Code), e.Message)
	}
	return errs.Err()
}

// ListUnits returns the units the actor may see: all for organisation-wide
// members, else their own.
func (s *Service) ListUnits(ctx context.Context, userID, orgID string) ([]Unit, error) {
	_, a, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return nil, err
	}
	units, err := s.Store.ListUnits(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := []Unit{}
	for _, u := range units {
		if a.OrgWide() || slices.Contains(a.Units, u.ID) {
			out = append(out, u)
		}
	}
	return out, nil
}

// CreateUnit adds a unit with a name new in the organisation.
func (s *Service) CreateUnit(ctx context.Context, userID, orgID, name string) (Unit, error) {
	o, a, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return Unit{}, err
	}
	if err := mayConfigure(o, a, ""); err != nil {
		return Unit{}, err
	}
	name, err = CleanUnitName(name)
	if err != nil {
		return Unit{}, invalid("name", err)
	}
	u := Unit{ID: newUnitID(), Name: name, CreatedAt: s.Now().UTC().Truncate(time.Second)}
	e := audit.New(orgID, userID, audit.UnitCreated, "unit", u.ID, u.CreatedAt).Changed(nil, map[string]any{"name": u.Name})
	if err := s.Store.CreateUnit(ctx, orgID, u, e); err != nil {
		return Unit{}, err
	}
	return u, nil
}

// RenameUnit renames a unit the actor may configure.
func (s *Service) RenameUnit(ctx context.Context, userID, orgID, unitID, name string) (Unit, error) {
	o, a, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return Unit{}, err
	}
	if err := mayConfigure(o, a, unitID); err != nil {
		return Unit{}, err
	}
	name, err = CleanUnitName(name)
	if err != nil {
		return Unit{}, invalid("name", err)
	}
	u, err := s.Store.Unit(ctx, orgID, unitID)
	if err != nil {
		return Unit{}, err
	}
	e := audit.New(orgID, userID, audit.UnitRenamed, "unit", u.ID, s.Now()).
		Changed(map[string]any{"name": u.Name}, map[string]any{"name": name})
	return s.Store.RenameUnit(ctx, orgID, u, name, e)
}

// DeleteUnit deletes an empty unit: no member and no pending invitation in it.
func (s *Service) DeleteUnit(ctx context.Context, userID, orgID, unitID string) error {
	o, a, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return err
	}
	if err := mayConfigure(o, a, ""); err != nil {
		return err
	}
	u, err := s.Store.Unit(ctx, orgID, unitID)
	if err != nil {
		return err
	}
	inUse, err := s.Store.UnitInUse(ctx, orgID, unitID)
	if err != nil {
		return err
	}
	if inUse {
		return fault.New(fault.Conflict, "the unit still has members or pending invitations")
	}
	e := audit.New(orgID, userID, audit.UnitDeleted, "unit", u.ID, s.Now()).Changed(map[string]any{"name": u.Name}, nil)
	return s.Store.DeleteUnit(ctx, orgID, u, e)
}

// Settings returns the organisation's settings to any member whose role may
// read lists.
func (s *Service) Settings(ctx context.Context, userID, orgID string) (Settings, error) {
	o, a, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return Settings{}, err
	}
	if r, ok := o.Roles.Find(a.Role); !ok || !r.ReadLists {
		return Settings{}, fault.New(fault.Forbidden, "your role may not see the settings")
	}
	return withDefaults(o.Settings), nil
}

// withDefaults fills settings stored before a field existed.
func withDefaults(s Settings) Settings {
	d := NewSettings(s.InvitationLifetimeDays)
	if s.CustomFields == nil {
		s.CustomFields = d.CustomFields
	}
	if s.EmailTemplates == nil {
		s.EmailTemplates = EmailTemplates{}
	}
	if s.RateLimits.InvitationsPerHour == 0 {
		s.RateLimits.InvitationsPerHour = d.RateLimits.InvitationsPerHour
	}
	if s.RateLimits.EmailsPerRecipientPerDay == 0 {
		s.RateLimits.EmailsPerRecipientPerDay = d.RateLimits.EmailsPerRecipientPerDay
	}
	if s.ExistingAccounts == "" {
		s.ExistingAccounts = d.ExistingAccounts
	}
	return s
}

// SettingsChange is a PATCH of settings: nil fields stay as they are.
type SettingsChange struct {
	InvitationLifetimeDays   *int            `json:"invitationLifetimeDays"`
	DefaultLanguage          *string         `json:"defaultLanguage"`
	DefaultPhoneRegion       *string         `json:"defaultPhoneRegion"`
	ReminderDaysBeforeExpiry *int            `json:"reminderDaysBeforeExpiry"`
	CustomFields             *[]CustomField  `json:"customFields"`
	RateLimits               *RateLimits     `json:"rateLimits"`
	EmailTemplates           *EmailTemplates `json:"emailTemplates"`
	ExistingAccounts         *string         `json:"existingAccounts"`
	TermsURL                 *string         `json:"termsUrl"`
	TermsVersion             *string         `json:"termsVersion"`
}

// UpdateSettings applies a change; only organisation-wide admins may.
func (s *Service) UpdateSettings(ctx context.Context, userID, orgID string, c SettingsChange) (Settings, error) {
	o, a, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return Settings{}, err
	}
	if err := o.Roles.Require(a, access.ManageSettings, true); err != nil {
		return Settings{}, err
	}
	st := withDefaults(o.Settings)
	var errs fault.Fields
	if c.InvitationLifetimeDays != nil {
		if d := *c.InvitationLifetimeDays; d < MinLifetimeDays || d > MaxLifetimeDays {
			errs.Add("invitationLifetimeDays", string(fault.Invalid), fmt.Sprintf("from %d to %d", MinLifetimeDays, MaxLifetimeDays))
		}
		st.InvitationLifetimeDays = *c.InvitationLifetimeDays
	}
	if c.DefaultLanguage != nil {
		if st.DefaultLanguage, err = NormalizeLanguage(*c.DefaultLanguage); err != nil {
			errs.Add("defaultLanguage", string(fault.Invalid), "a BCP 47 language tag, such as en or nb")
		}
	}
	if c.DefaultPhoneRegion != nil {
		if st.DefaultPhoneRegion, err = NormalizeRegion(*c.DefaultPhoneRegion); err != nil {
			errs.Add("defaultPhoneRegion", string(fault.Invalid), "an ISO 3166 country code, such as NO")
		}
	}
	if c.ReminderDaysBeforeExpiry != nil {
		st.ReminderDaysBeforeExpiry = *c.ReminderDaysBeforeExpiry
	}
	if st.ReminderDaysBeforeExpiry < 0 || st.ReminderDaysBeforeExpiry >= st.InvitationLifetimeDays {
		errs.Add("reminderDaysBeforeExpiry", string(fault.Invalid), "from 0 (no reminder) to one less than the lifetime")
	}
	if c.CustomFields != nil {
		CheckCustomFields(*c.CustomFields, &errs)
		st.CustomFields = *c.CustomFields
		for i := range st.CustomFields {
			st.CustomFields[i].Label = strings.TrimSpace(st.CustomFields[i].Label)
		}
	}
	if c.RateLimits != nil {
		if r := c.RateLimits.InvitationsPerHour; r < 1 || r > 100000 {
			errs.Add("rateLimits.invitationsPerHour", string(fault.Invalid), "from 1 to 100000")
		}
		if r := c.RateLimits.EmailsPerRecipientPerDay; r < 1 || r > 50 {
			errs.Add("rateLimits.emailsPerRecipientPerDay", string(fault.Invalid), "from 1 to 50")
		}
		st.RateLimits = *c.RateLimits
	}
	if c.EmailTemplates != nil {
		CheckEmailTemplates(*c.EmailTemplates, s.Languages, &errs)
		st.EmailTemplates = *c.EmailTemplates
	}
	if c.ExistingAccounts != nil {
		switch v := strings.TrimSpace(*c.ExistingAccounts); v {
		case ExistingAccountsAdd, ExistingAccountsInvite:
			st.ExistingAccounts = v
		default:
			errs.Add("existingAccounts", string(fault.Invalid), `"add" (added at once, told by email) or "invite" (an invitation they accept by signing in)`)
		}
	}
	if c.TermsURL != nil {
		st.TermsURL = checkTermsURL(*c.TermsURL, &errs)
	}
	if c.TermsVersion != nil {
		st.TermsVersion = checkTermsVersion(*c.TermsVersion, &errs)
	}
	if (st.TermsURL == "") != (st.TermsVersion == "") {
		errs.Add("termsVersion", string(fault.Invalid), "the terms need both a URL and a version, or neither")
	}
	if err := errs.Err(); err != nil {
		return Settings{}, err
	}
	// The entry's before and after carry termsVersion: a new version (which
	// makes every member's consent due) is recorded with who set it.
	e := audit.New(orgID, userID, audit.SettingsUpdated, "settings", orgID, s.Now()).
		Changed(settingsMap(withDefaults(o.Settings)), settingsMap(st))
	if err := s.Store.UpdateSettings(ctx, orgID, st, e); err != nil {
		return Settings{}, err
	}
	return st, nil
}

// settingsMap is settings as an audit entry records them.
func settingsMap(s Settings) map[string]any {
	b, _ := json.Marshal(s)
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// AuditPage is one page of the audit trail.
type AuditPage struct {
	Items      []audit.Entry `json:"items"`
	NextCursor *string       `json:"nextCursor"`
}

// AuditTrail returns the organisation's audit trail, newest first, to
// organisation-wide admins.
func (s *Service) AuditTrail(ctx context.Context, userID, orgID string, limit int, cursor string) (AuditPage, error) {
	o, a, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return AuditPage{}, err
	}
	if err := o.Roles.Require(a, access.ReadAudit, true); err != nil {
		return AuditPage{}, err
	}
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > 100 {
		var errs fault.Fields
		errs.Add("limit", string(fault.Invalid), "from 1 to 100")
		return AuditPage{}, errs.Err()
	}
	items, next, err := s.Store.AuditTrail(ctx, orgID, limit, cursor)
	if err != nil {
		return AuditPage{}, err
	}
	page := AuditPage{Items: items}
	if next != "" {
		page.NextCursor = &next
	}
	return page, nil
}

// ImportTemplate is what a roster template offers one actor: the roles they
// may give (shown by display name in the template's language) and the units
// they may place people in, the organisation's custom fields and its
// language.
type ImportTemplate struct {
	Roles    access.Roles
	Units    []string // unit names
	Fields   []CustomField
	Language string
}

// RoleNames are the display names of t's roles in lang.
func (t ImportTemplate) RoleNames(lang string) []string {
	out := make([]string, 0, len(t.Roles))
	for _, r := range t.Roles {
		out = append(out, r.Name(lang))
	}
	return out
}

// ImportTemplate returns what the actor's roster template offers. Only
// roles with the importRosters ability may import rosters.
func (s *Service) ImportTemplate(ctx context.Context, userID, orgID string) (ImportTemplate, error) {
	o, a, err := s.MayImport(ctx, userID, orgID)
	if err != nil {
		return ImportTemplate{}, err
	}
	r, _ := o.Roles.Find(a.Role)
	units, err := s.Store.ListUnits(ctx, orgID)
	if err != nil {
		return ImportTemplate{}, err
	}
	t := ImportTemplate{Units: []string{}, Fields: withDefaults(o.Settings).CustomFields, Language: o.Settings.DefaultLanguage}
	for _, key := range r.MayInvite {
		if role, ok := o.Roles.Find(key); ok {
			t.Roles = append(t.Roles, role)
		}
	}
	for _, u := range units {
		if a.OrgWide() || slices.Contains(a.Units, u.ID) {
			t.Units = append(t.Units, u.Name)
		}
	}
	slices.SortFunc(t.Units, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return t, nil
}

// MayImport checks that userID may import rosters into orgID: their role
// must have the importRosters ability.
func (s *Service) MayImport(ctx context.Context, userID, orgID string) (Organisation, access.Actor, error) {
	o, a, err := s.actor(ctx, orgID, userID)
	if err != nil {
		return o, a, err
	}
	return o, a, o.Roles.Require(a, access.ImportRosters, false)
}
