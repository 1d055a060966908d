// Package adminapi is the admin function's route table: the signed-in
// routes on invitations, members, units, settings, the audit trail,
// monitoring profiles and partners, GET /me and the caller's sessions.
package adminapi

import (
	"context"
	"net/http"
	"strconv"

	"onboarding/shared/account"
	"onboarding/shared/fault"
	"onboarding/shared/httpapi"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
	"onboarding/shared/partner"
	"onboarding/shared/selfservice"
)

// Routes serves the signed-in (admin) routes. It reaches the domain
// through the interfaces below, which hold only the calls the routes make,
// so route tests can run on fakes.
type Routes struct {
	Invitations Invitations
	Members     Members
	Orgs        Orgs
	Directory   account.Directory
	// Erasure exports and erases a person's data.
	Erasure Erasure
	// Partners is optional: without it the partner routes are not served.
	Partners Partners
	// Cursors signs and checks the lists' cursors.
	Cursors *httpapi.Cursors
	// Sessions is optional: without it the /me/sessions routes are not
	// served.
	Sessions MySessions
	Self     Self
	// Roles is the organisation's role table (*org.RoleService).
	Roles Roles
}

// Roles reads and replaces an organisation's role table (*org.RoleService).
type Roles interface {
	Roles(ctx context.Context, userID, orgID string) (org.RoleTable, error)
	PutRoles(ctx context.Context, userID, orgID string, t org.RoleTable) (org.RoleTable, error)
}

// MySessions is the caller's own sessions (*account.Sessions): the store
// looks only under the caller's id, so another's session is not found.
type MySessions interface {
	List(ctx context.Context, userID, current string) (account.SessionList, error)
	Revoke(ctx context.Context, userID, id string) error
}

// Self is what a signed-in person does to their own account
// (*selfservice.Service).
type Self interface {
	UpdateProfile(ctx context.Context, userID string, c selfservice.ProfileChange) (account.Me, error)
	ChangePassword(ctx context.Context, userID, sessionID, source string, c selfservice.PasswordChange) error
	StartEmailChange(ctx context.Context, userID, source, appURL string, req selfservice.EmailChangeRequest) error
	LeaveOrg(ctx context.Context, userID, orgID string) error
	Me(ctx context.Context, userID string) (account.Me, error)
	ConsentToTerms(ctx context.Context, userID string, c selfservice.Consent) error
}

// Invitations is the invitation lifecycle (*invite.Service).
type Invitations interface {
	Invite(ctx context.Context, actorID, orgID string, req invite.Request) (invite.Invitation, error)
	List(ctx context.Context, userID, orgID string, q invite.ListQuery) (invite.Page, error)
	Get(ctx context.Context, userID, orgID, id string) (invite.Invitation, error)
	Resend(ctx context.Context, userID, orgID, id string) (invite.Invitation, error)
	Remove(ctx context.Context, userID, orgID, id string) (invite.Removed, error)
}

// Members is member management and monitoring profiles (*membership.Service).
type Members interface {
	List(ctx context.Context, userID, orgID string, q membership.Query) (membership.Page, error)
	Update(ctx context.Context, userID, orgID, targetID string, c membership.Change) (org.Member, error)
	Remove(ctx context.Context, userID, orgID, targetID string) error
	Monitoring(ctx context.Context, userID, orgID, targetID string) (monitor.View, error)
	SetMonitoring(ctx context.Context, userID, orgID, targetID string, c membership.MonitoringChange) (membership.Saved, error)
}

// Orgs is an organisation's units, settings and audit trail (*org.Service).
type Orgs interface {
	ListUnits(ctx context.Context, userID, orgID string) ([]org.Unit, error)
	CreateUnit(ctx context.Context, userID, orgID, name string) (org.Unit, error)
	RenameUnit(ctx context.Context, userID, orgID, unitID, name string) (org.Unit, error)
	DeleteUnit(ctx context.Context, userID, orgID, unitID string) error
	Settings(ctx context.Context, userID, orgID string) (org.Settings, error)
	UpdateSettings(ctx context.Context, userID, orgID string, c org.SettingsChange) (org.Settings, error)
	AuditTrail(ctx context.Context, userID, orgID string, limit int, cursor string) (org.AuditPage, error)
}

// Partners is monitoring partners and their deliveries (*partner.Service).
type Partners interface {
	List(ctx context.Context, userID, orgID string) ([]partner.View, error)
	Get(ctx context.Context, userID, orgID, partnerID string) (partner.View, error)
	Put(ctx context.Context, userID, orgID, partnerID string, c partner.Config) (v partner.View, created bool, err error)
	Delete(ctx context.Context, userID, orgID, partnerID string) error
	Deliveries(ctx context.Context, userID, orgID, partnerID string, limit int, cursor string) (partner.DeliveryPage, error)
	Redeliver(ctx context.Context, userID, orgID, partnerID, deliveryID string) (partner.DeliveryView, error)
	RequestRoster(ctx context.Context, userID, orgID, partnerID string) (partner.DeliveryView, error)
}

// Register adds the admin routes to rt.
func (a *Routes) Register(rt *httpapi.Router) {
	if a.Cursors == nil {
		panic("adminapi: routes without Cursors")
	}
	rt.Authed("GET /me", a.me)
	if a.Sessions != nil {
		rt.Authed("GET /me/sessions", a.mySessions)
		rt.Authed("DELETE /me/sessions/{sessionId}", a.endMySession)
	}
	rt.Authed("PATCH /me", a.updateMe)
	rt.AuthedSecret("POST /me/password", a.changePassword)
	rt.AuthedSecret("POST /me/email", a.changeEmail)
	rt.Authed("DELETE /me/memberships/{orgId}", a.leaveOrg)
	rt.Authed("POST /me/consent", a.consent)
	rt.Authed("POST /orgs/{orgId}/invitations", a.createInvitation)
	rt.Authed("GET /orgs/{orgId}/invitations", a.listInvitations)
	rt.Authed("GET /orgs/{orgId}/invitations/{invitationId}", a.getInvitation)
	rt.Authed("POST /orgs/{orgId}/invitations/{invitationId}/resend", a.resendInvitation)
	rt.Authed("DELETE /orgs/{orgId}/invitations/{invitationId}", a.removeInvitation)
	rt.Authed("GET /orgs/{orgId}/members", a.listMembers)
	rt.Authed("PATCH /orgs/{orgId}/members/{userId}", a.updateMember)
	rt.Authed("DELETE /orgs/{orgId}/members/{userId}", a.removeMember)
	rt.Authed("GET /orgs/{orgId}/members/{userId}/monitoring", a.getMonitoring)
	rt.Authed("PUT /orgs/{orgId}/members/{userId}/monitoring", a.putMonitoring)
	rt.Authed("GET /orgs/{orgId}/units", a.listUnits)
	rt.Authed("POST /orgs/{orgId}/units", a.createUnit)
	rt.Authed("PATCH /orgs/{orgId}/units/{unitId}", a.renameUnit)
	rt.Authed("DELETE /orgs/{orgId}/units/{unitId}", a.deleteUnit)
	rt.Authed("GET /orgs/{orgId}/settings", a.getSettings)
	rt.Authed("PATCH /orgs/{orgId}/settings", a.updateSettings)
	rt.Authed("GET /orgs/{orgId}/roles", a.getRoles)
	rt.Authed("PUT /orgs/{orgId}/roles", a.putRoles)
	rt.Authed("GET /orgs/{orgId}/audit", a.auditTrail)
	rt.Authed("GET /me/export", a.exportMe)
	rt.Authed("DELETE /me", a.eraseMe)
	if a.Partners != nil {
		rt.Authed("GET /orgs/{orgId}/partners", a.listPartners)
		rt.Authed("GET /orgs/{orgId}/partners/{partnerId}", a.getPartner)
		rt.Authed("PUT /orgs/{orgId}/partners/{partnerId}", a.putPartner)
		rt.Authed("DELETE /orgs/{orgId}/partners/{partnerId}", a.deletePartner)
		rt.Authed("GET /orgs/{orgId}/partners/{partnerId}/deliveries", a.listDeliveries)
		rt.Authed("POST /orgs/{orgId}/partners/{partnerId}/deliveries/{deliveryId}/redeliver", a.redeliver)
		rt.Authed("POST /orgs/{orgId}/partners/{partnerId}/roster", a.requestRoster)
	}
}

func (a *Routes) me(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	me, err := a.Self.Me(ctx, r.UserID())
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, me)
}

func (a *Routes) mySessions(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	list, err := a.Sessions.List(ctx, r.UserID(), r.SessionID())
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, list)
}

func (a *Routes) endMySession(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	if err := a.Sessions.Revoke(ctx, r.UserID(), r.Param("sessionId")); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{StatusCode: http.StatusNoContent}, nil
}

// consent records the caller's acceptance of an organisation's current
// terms (GET /me says where it is due).
func (a *Routes) consent(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var c selfservice.Consent
	if err := r.DecodeStrict(&c); err != nil {
		return httpapi.Response{}, err
	}
	if err := a.Self.ConsentToTerms(ctx, r.UserID(), c); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{StatusCode: http.StatusNoContent}, nil
}

func (a *Routes) updateMe(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var c selfservice.ProfileChange
	if err := r.DecodeStrict(&c); err != nil {
		return httpapi.Response{}, err
	}
	me, err := a.Self.UpdateProfile(ctx, r.UserID(), c)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, me)
}

// changePassword keeps the session it was called from (r.SessionID()) and
// ends the others.
func (a *Routes) changePassword(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var c selfservice.PasswordChange
	if err := r.DecodeStrict(&c); err != nil {
		return httpapi.Response{}, err
	}
	if err := a.Self.ChangePassword(ctx, r.UserID(), r.SessionID(), r.Event.RequestContext.HTTP.SourceIP, c); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{StatusCode: http.StatusNoContent}, nil
}

// changeEmail answers 202: the new address confirms by the link it is sent
// (the same answer when no link could go out: see StartEmailChange).
func (a *Routes) changeEmail(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in selfservice.EmailChangeRequest
	if err := r.DecodeStrict(&in); err != nil {
		return httpapi.Response{}, err
	}
	if err := a.Self.StartEmailChange(ctx, r.UserID(), r.Event.RequestContext.HTTP.SourceIP, r.BaseURL(""), in); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusAccepted, map[string]string{"status": "awaitingConfirmation"})
}

func (a *Routes) leaveOrg(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	if err := a.Self.LeaveOrg(ctx, r.UserID(), r.Param("orgId")); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{StatusCode: http.StatusNoContent}, nil
}

func (a *Routes) createInvitation(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in invite.Request
	if err := r.Decode(&in); err != nil {
		return httpapi.Response{}, err
	}
	inv, err := a.Invitations.Invite(invite.WithAcceptURL(ctx, r.BaseURL("")+"/accept"), r.UserID(), r.Param("orgId"), in)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusCreated, inv)
}

// limit reads the optional limit query parameter.
func limit(r *httpapi.Request) (int, error) {
	l := r.Query("limit")
	if l == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil {
		e := fault.New(fault.Invalid, "the request has invalid fields")
		e.Fields = []fault.FieldError{{Field: "limit", Code: string(fault.Invalid), Message: "a whole number"}}
		return 0, e
	}
	return n, nil
}

func (a *Routes) listInvitations(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	if err := r.OnlyQuery("status", "q", "limit", "cursor"); err != nil {
		return httpapi.Response{}, err
	}
	n, err := limit(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	cursor, err := a.Cursors.Open(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	q := invite.ListQuery{Status: r.Query("status"), Q: r.Query("q"), Cursor: cursor, Limit: n}
	page, err := a.Invitations.List(ctx, r.UserID(), r.Param("orgId"), q)
	if err != nil {
		return httpapi.Response{}, err
	}
	page.NextCursor = a.Cursors.SealNext(r, page.NextCursor)
	return httpapi.JSON(http.StatusOK, page)
}

func (a *Routes) getInvitation(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	inv, err := a.Invitations.Get(ctx, r.UserID(), r.Param("orgId"), r.Param("invitationId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, inv)
}

func (a *Routes) resendInvitation(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	inv, err := a.Invitations.Resend(invite.WithAcceptURL(ctx, r.BaseURL("")+"/accept"), r.UserID(), r.Param("orgId"), r.Param("invitationId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, inv)
}

func (a *Routes) removeInvitation(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	removed, err := a.Invitations.Remove(ctx, r.UserID(), r.Param("orgId"), r.Param("invitationId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	if removed.Deleted {
		return httpapi.Response{StatusCode: http.StatusNoContent}, nil
	}
	return httpapi.JSON(http.StatusOK, removed.Invitation)
}

func (a *Routes) listMembers(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	if err := r.OnlyQuery("role", "unit", "q", "limit", "cursor"); err != nil {
		return httpapi.Response{}, err
	}
	n, err := limit(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	cursor, err := a.Cursors.Open(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := a.Members.List(ctx, r.UserID(), r.Param("orgId"),
		membership.Query{Role: r.Query("role"), Unit: r.Query("unit"), Q: r.Query("q"), Cursor: cursor, Limit: n})
	if err != nil {
		return httpapi.Response{}, err
	}
	page.NextCursor = a.Cursors.SealNext(r, page.NextCursor)
	return httpapi.JSON(http.StatusOK, page)
}

func (a *Routes) updateMember(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var c membership.Change
	if err := r.Decode(&c); err != nil {
		return httpapi.Response{}, err
	}
	m, err := a.Members.Update(ctx, r.UserID(), r.Param("orgId"), r.Param("userId"), c)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, m)
}

func (a *Routes) removeMember(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	erase, err := eraseFlag(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	if erase {
		err = a.Erasure.EraseMember(ctx, r.UserID(), r.Param("orgId"), r.Param("userId"))
	} else {
		err = a.Members.Remove(ctx, r.UserID(), r.Param("orgId"), r.Param("userId"))
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{StatusCode: http.StatusNoContent}, nil
}

func (a *Routes) getMonitoring(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	v, err := a.Members.Monitoring(ctx, r.UserID(), r.Param("orgId"), r.Param("userId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, v)
}

func (a *Routes) putMonitoring(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var c membership.MonitoringChange
	if err := r.Decode(&c); err != nil {
		return httpapi.Response{}, err
	}
	saved, err := a.Members.SetMonitoring(ctx, r.UserID(), r.Param("orgId"), r.Param("userId"), c)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, saved)
}

type unitRequest struct {
	Name string `json:"name"`
}

func (a *Routes) listUnits(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	if err := r.OnlyQuery("cursor"); err != nil {
		return httpapi.Response{}, err
	}
	if r.Query("cursor") != "" { // one page: no cursor is ever given out
		return httpapi.Response{}, fault.BadCursor()
	}
	units, err := a.Orgs.ListUnits(ctx, r.UserID(), r.Param("orgId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": units, "nextCursor": nil})
}

func (a *Routes) createUnit(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in unitRequest
	if err := r.Decode(&in); err != nil {
		return httpapi.Response{}, err
	}
	u, err := a.Orgs.CreateUnit(ctx, r.UserID(), r.Param("orgId"), in.Name)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusCreated, u)
}

func (a *Routes) renameUnit(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in unitRequest
	if err := r.Decode(&in); err != nil {
		return httpapi.Response{}, err
	}
	u, err := a.Orgs.RenameUnit(ctx, r.UserID(), r.Param("orgId"), r.Param("unitId"), in.Name)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, u)
}

func (a *Routes) deleteUnit(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	if err := a.Orgs.DeleteUnit(ctx, r.UserID(), r.Param("orgId"), r.Param("unitId")); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{StatusCode: http.StatusNoContent}, nil
}

func (a *Routes) getSettings(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	st, err := a.Orgs.Settings(ctx, r.UserID(), r.Param("orgId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, st)
}

func (a *Routes) updateSettings(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var c org.SettingsChange
	if err := r.Decode(&c); err != nil {
		return httpapi.Response{}, err
	}
	st, err := a.Orgs.UpdateSettings(ctx, r.UserID(), r.Param("orgId"), c)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, st)
}

func (a *Routes) getRoles(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	t, err := a.Roles.Roles(ctx, r.UserID(), r.Param("orgId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, t)
}

func (a *Routes) putRoles(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var t org.RoleTable
	if err := r.DecodeStrict(&t); err != nil {
		return httpapi.Response{}, err
	}
	stored, err := a.Roles.PutRoles(ctx, r.UserID(), r.Param("orgId"), t)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, stored)
}

func (a *Routes) auditTrail(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	if err := r.OnlyQuery("limit", "cursor"); err != nil {
		return httpapi.Response{}, err
	}
	n, err := limit(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	cursor, err := a.Cursors.Open(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := a.Orgs.AuditTrail(ctx, r.UserID(), r.Param("orgId"), n, cursor)
	if err != nil {
		return httpapi.Response{}, err
	}
	page.NextCursor = a.Cursors.SealNext(r, page.NextCursor)
	return httpapi.JSON(http.StatusOK, page)
}

func (a *Routes) listPartners(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	ps, err := a.Partners.List(ctx, r.UserID(), r.Param("orgId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": ps})
}

func (a *Routes) getPartner(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	v, err := a.Partners.Get(ctx, r.UserID(), r.Param("orgId"), r.Param("partnerId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, v)
}

// putPartner answers 201 with the webhook secret (shown only here) for a new
// partner, 200 for a changed one (with the secret when it was rotated).
func (a *Routes) putPartner(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var c partner.Config
	if err := r.Decode(&c); err != nil {
		return httpapi.Response{}, err
	}
	v, created, err := a.Partners.Put(ctx, r.UserID(), r.Param("orgId"), r.Param("partnerId"), c)
	if err != nil {
		return httpapi.Response{}, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return httpapi.JSON(status, v) // never cached (JSON answers are no-store)
}

func (a *Routes) deletePartner(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	if err := a.Partners.Delete(ctx, r.UserID(), r.Param("orgId"), r.Param("partnerId")); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{StatusCode: http.StatusNoContent}, nil
}

func (a *Routes) listDeliveries(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	if err := r.OnlyQuery("limit", "cursor"); err != nil {
		return httpapi.Response{}, err
	}
	n, err := limit(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	cursor, err := a.Cursors.Open(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := a.Partners.Deliveries(ctx, r.UserID(), r.Param("orgId"), r.Param("partnerId"), n, cursor)
	if err != nil {
		return httpapi.Response{}, err
	}
	page.NextCursor = a.Cursors.Seal(r, page.NextCursor)
	return httpapi.JSON(http.StatusOK, page)
}

// redeliver answers 202: the copy is queued, due at once.
func (a *Routes) redeliver(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	v, err := a.Partners.Redeliver(ctx, r.UserID(), r.Param("orgId"), r.Param("partnerId"), r.Param("deliveryId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusAccepted, v)
}

// requestRoster answers 202: the roster email is queued.
func (a *Routes) requestRoster(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	v, err := a.Partners.RequestRoster(ctx, r.UserID(), r.Param("orgId"), r.Param("partnerId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusAccepted, v)
}
