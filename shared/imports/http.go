// Package imports is the import of rosters: the HTTP routes an admin uses
// and, later, the job that applies a spreadsheet. It is its own package (and
// function) so that only it links the spreadsheet library.
package imports

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"

	"onboarding/shared/fault"
	"onboarding/shared/httpapi"
	"onboarding/shared/org"
	"onboarding/shared/roster"
)

// Routes serves the import routes.
type Routes struct {
	Orgs *org.Service
}

// Register adds the routes to rt.
func (h *Routes) Register(rt *httpapi.Router) {
	rt.Authed("GET /orgs/{orgId}/imports/template", h.template)
}

const (
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	csvType  = "text/csv; charset=utf-8"
)

// template returns the roster template: ?format=xlsx (default) or csv, in
// ?language= (default the organisation's).
func (h *Routes) template(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var errs fault.Fields
	format := strings.ToLower(r.Query("format"))
	if format == "" {
		format = "xlsx"
	}
	if format != "xlsx" && format != "csv" {
		errs.Add("format", string(fault.Invalid), "xlsx or csv")
	}
	lang := r.Query("language")
	if lang != "" {
		var err error
		if lang, err = org.NormalizeLanguage(lang); err != nil {
			errs.Add("language", string(fault.Invalid), "not a language tag (for example nb, sv, fr)")
		}
	}
	if err := errs.Err(); err != nil {
		return httpapi.Response{}, err
	}
	t, err := h.Orgs.ImportTemplate(ctx, r.UserID(), r.Param("orgId"))
	if err != nil {
		return httpapi.Response{}, err
	}
	if lang == "" {
		lang = t.Language
	}
	var buf bytes.Buffer
	contentType := xlsxType
	if format == "csv" {
		contentType = csvType
		err = roster.WriteTemplateCSV(&buf, lang)
	} else {
		err = roster.WriteTemplateXLSX(&buf, lang, t.Roles, t.Units)
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	base, _, _ := strings.Cut(lang, "-")
	return httpapi.Response{
		StatusCode: http.StatusOK,
		Headers: map[string]string{
			"Content-Type":        contentType,
			"Content-Disposition": `attachment; filename="roster-template-` + base + "." + format + `"`,
			"Cache-Control":       "no-store",
		},
		Body:            base64.StdEncoding.EncodeToString(buf.Bytes()),
		IsBase64Encoded: true,
	}, nil
}
