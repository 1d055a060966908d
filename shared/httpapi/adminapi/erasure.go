package adminapi

import (
	"context"
	"net/http"

	"onboarding/shared/erasure"
	"onboarding/shared/fault"
	"onboarding/shared/httpapi"
)

// Erasure is export and erasure (*erasure.Service).
type Erasure interface {
	Export(ctx context.Context, userID string) (erasure.Export, error)
	EraseSelf(ctx context.Context, userID, password, source string) error
	EraseMember(ctx context.Context, actorID, orgID, targetID string) error
}

// exportMe answers with everything stored about the caller, as a file.
func (a *Routes) exportMe(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	doc, err := a.Erasure.Export(ctx, r.UserID())
	if err != nil {
		return httpapi.Response{}, err
	}
	res, err := httpapi.JSON(http.StatusOK, doc)
	if err == nil {
		res.Headers["Content-Disposition"] = `attachment; filename="export.json"`
	}
	return res, err
}

// eraseMe erases the caller's account once they give its password again.
func (a *Routes) eraseMe(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in struct {
		Password string `json:"password"`
	}
	if err := r.DecodeStrict(&in); err != nil {
		return httpapi.Response{}, err
	}
	if err := a.Erasure.EraseSelf(ctx, r.UserID(), in.Password, r.Event.RequestContext.HTTP.SourceIP); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{StatusCode: http.StatusNoContent}, nil
}

// eraseFlag reads DELETE /orgs/{orgId}/members/{userId}'s query: erase
// (true or false) and nothing else. A parameter it does not know is named
// back: "?erasse=true" must not remove the member without erasing them.
func eraseFlag(r *httpapi.Request) (bool, error) {
	var errs fault.Fields
	r.UnknownQuery(&errs, "erase")
	erase := r.Query("erase")
	if erase != "" && erase != "true" && erase != "false" {
		errs.Add("erase", string(fault.Invalid), "true or false")
	}
	return erase == "true", errs.Err()
}
