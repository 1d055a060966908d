package httpapi

import (
	"context"
	"net/http"

	"onboarding/shared/account"
	"onboarding/shared/invite"
)

// Admin serves the signed-in (admin) routes.
type Admin struct {
	Invitations *invite.Service
	Directory   account.Directory
}

// Register adds the admin routes to rt.
func (a *Admin) Register(rt *Router) {
	rt.Authed("GET /me", a.me)
	rt.Authed("POST /orgs/{orgId}/invitations", a.createInvitation)
}

func (a *Admin) me(ctx context.Context, r *Request) (Response, error) {
	me, err := account.LoadMe(ctx, a.Directory, r.UserID())
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, me)
}

func (a *Admin) createInvitation(ctx context.Context, r *Request) (Response, error) {
	var in invite.Request
	if err := r.Decode(&in); err != nil {
		return Response{}, err
	}
	svc := a.Invitations
	if svc.AcceptURL == "" {
		// No public base URL configured: link to this API's own page.
		perRequest := *svc
		perRequest.AcceptURL = r.BaseURL() + "/accept"
		svc = &perRequest
	}
	inv, err := svc.Invite(ctx, r.UserID(), r.Param("orgId"), in)
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusCreated, inv)
}
