package adminapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"

	"onboarding/shared/account"
	"onboarding/shared/authtoken"
	"onboarding/shared/httpapi/adminapi"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
	"onboarding/shared/partner"
)

// The real services are what the routes' interfaces describe.
var (
	_ adminapi.Invitations = (*invite.Service)(nil)
	_ adminapi.Members     = (*membership.Service)(nil)
	_ adminapi.Orgs        = (*org.Service)(nil)
	_ adminapi.Partners    = (*partner.Service)(nil)
	_ adminapi.MySessions  = (*account.Sessions)(nil)
)

// domain records the calls the routes make, and answers each with err.
type domain struct {
	calls []string
	err   error
	// next is the next page's cursor the lists answer with.
	next string
	// removed and created shape the answers that decide a status.
	removed invite.Removed
	created bool
}

// record notes a call as method(args...), a struct argument as JSON of its
// non-zero fields, so that a case states only what was decoded (a pointer
// to "" is not zero: it says a member was sent empty).
func (d *domain) record(method string, args ...any) {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = compact(a)
	}
	d.calls = append(d.calls, method+"("+strings.Join(parts, ", ")+")")
}

func compact(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Struct {
		b, _ := json.Marshal(v)
		return string(b)
	}
	fields := map[string]any{}
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			continue
		}
		f := rv.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		fields[name] = rv.Field(i).Interface()
	}
	b, _ := json.Marshal(fields)
	return string(b)
}

func (d *domain) page() *string {
	if d.next == "" {
		return nil
	}
	return &d.next
}

type invitations struct{ *domain }

func (f invitations) Invite(_ context.Context, actorID, orgID string, req invite.Request) (invite.Invitation, error) {
	f.record("Invite", actorID, orgID, req)
	return invite.Invitation{ID: "i1", Email: req.Email}, f.err
}
func (f invitations) List(_ context.Context, userID, orgID string, q invite.ListQuery) (invite.Page, error) {
	f.record("Invitations.List", userID, orgID, q)
	return invite.Page{Items: []invite.Invitation{}, NextCursor: f.page()}, f.err
}
func (f invitations) Get(_ context.Context, userID, orgID, id string) (invite.Invitation, error) {
	f.record("Invitations.Get", userID, orgID, id)
	return invite.Invitation{ID: id}, f.err
}
func (f invitations) Resend(_ context.Context, userID, orgID, id string) (invite.Invitation, error) {
	f.record("Resend", userID, orgID, id)
	return invite.Invitation{ID: id}, f.err
}
func (f invitations) Remove(_ context.Context, userID, orgID, id string) (invite.Removed, error) {
	f.record("Invitations.Remove", userID, orgID, id)
	return f.removed, f.err
}

type members struct{ *domain }

func (f members) List(_ context.Context, userID, orgID string, q membership.Query) (membership.Page, error) {
	f.record("Members.List", userID, orgID, q)
	return membership.Page{Items: []org.Member{}, NextCursor: f.page()}, f.err
}
func (f members) Update(_ context.Context, userID, orgID, targetID string, c membership.Change) (org.Member, error) {
	f.record("Members.Update", userID, orgID, targetID, c)
	return org.Member{UserID: targetID, OrgID: orgID}, f.err
}
func (f members) Remove(_ context.Context, userID, orgID, targetID string) error {
	f.record("Members.Remove", userID, orgID, targetID)
	return f.err
}
func (f members) Monitoring(_ context.Context, userID, orgID, targetID string) (monitor.View, error) {
	f.record("Monitoring", userID, orgID, targetID)
	return monitor.View{UserID: targetID}, f.err
}
func (f members) SetMonitoring(_ context.Context, userID, orgID, targetID string, c membership.MonitoringChange) (membership.Saved, error) {
	f.record("SetMonitoring", userID, orgID, targetID, c)
	return membership.Saved{View: monitor.View{UserID: targetID}}, f.err
}

type orgs struct{ *domain }

func (f orgs) ListUnits(_ context.Context, userID, orgID string) ([]org.Unit, error) {
	f.record("ListUnits", userID, orgID)
	return []org.Unit{}, f.err
}
func (f orgs) CreateUnit(_ context.Context, userID, orgID, name string) (org.Unit, error) {
	f.record("CreateUnit", userID, orgID, name)
	return org.Unit{ID: "u1", Name: name}, f.err
}
func (f orgs) RenameUnit(_ context.Context, userID, orgID, unitID, name string) (org.Unit, error) {
	f.record("RenameUnit", userID, orgID, unitID, name)
	return org.Unit{ID: unitID, Name: name}, f.err
}
func (f orgs) DeleteUnit(_ context.Context, userID, orgID, unitID string) error {
	f.record("DeleteUnit", userID, orgID, unitID)
	return f.err
}
func (f orgs) Settings(_ context.Context, userID, orgID string) (org.Settings, error) {
	f.record("Settings", userID, orgID)
	return org.Settings{}, f.err
}
func (f orgs) UpdateSettings(_ context.Context, userID, orgID string, c org.SettingsChange) (org.Settings, error) {
	f.record("UpdateSettings", userID, orgID, c)
	return org.Settings{}, f.err
}
func (f orgs) AuditTrail(_ context.Context, userID, orgID string, limit int, cursor string) (org.AuditPage, error) {
	f.record("AuditTrail", userID, orgID, limit, cursor)
	return org.AuditPage{NextCursor: f.page()}, f.err
}

type partners struct{ *domain }

func (f partners) List(_ context.Context, userID, orgID string) ([]partner.View, error) {
	f.record("Partners.List", userID, orgID)
	return []partner.View{}, f.err
}
func (f partners) Get(_ context.Context, userID, orgID, partnerID string) (partner.View, error) {
	f.record("Partners.Get", userID, orgID, partnerID)
	return partner.View{}, f.err
}
func (f partners) Put(_ context.Context, userID, orgID, partnerID string, c partner.Config) (partner.View, bool, error) {
	f.record("Partners.Put", userID, orgID, partnerID, c)
	return partner.View{}, f.created, f.err
}
func (f partners) Delete(_ context.Context, userID, orgID, partnerID string) error {
	f.record("Partners.Delete", userID, orgID, partnerID)
	return f.err
}
func (f partners) Deliveries(_ context.Context, userID, orgID, partnerID string, limit int, cursor string) (partner.DeliveryPage, error) {
	f.record("Deliveries", userID, orgID, partnerID, limit, cursor)
	return partner.DeliveryPage{Items: []partner.DeliveryView{}, NextCursor: f.next}, f.err
}
func (f partners) Redeliver(_ context.Context, userID, orgID, partnerID, deliveryID string) (partner.DeliveryView, error) {
	f.record("Redeliver", userID, orgID, partnerID, deliveryID)
	return partner.DeliveryView{}, f.err
}
func (f partners) RequestRoster(_ context.Context, userID, orgID, partnerID string) (partner.DeliveryView, error) {
	f.record("RequestRoster", userID, orgID, partnerID)
	return partner.DeliveryView{}, f.err
}

type directory struct{ *domain }

func (f directory) Account(_ context.Context, userID string) (*account.Account, error) {
	f.record("Account", userID)
	return &account.Account{UserID: userID}, f.err
}
func (f directory) Memberships(_ context.Context, userID string) ([]org.Member, error) {
	f.record("Memberships", userID)
	return []org.Member{}, f.err
}

// callerToken is the one token fakeTokens accepts, for the user "caller".
const callerToken = "caller-token"

type sessions struct{ *domain }

func (f sessions) List(_ context.Context, userID, current string) (account.SessionList, error) {
	f.record("Sessions.List", userID, current)
	return account.SessionList{Sessions: []account.SessionView{}}, f.err
}
func (f sessions) Revoke(_ context.Context, userID, id string) error {
	f.record("Sessions.Revoke", userID, id)
	return f.err
}

type fakeTokens struct{}

func (fakeTokens) Verify(token string) (authtoken.Claims, error) {
	if token != callerToken {
		return authtoken.Claims{}, errors.New("not a token")
	}
	var c authtoken.Claims
	c.Subject, c.SessionID = "caller", "s-caller"
	return c, nil
}
