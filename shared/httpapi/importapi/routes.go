// Package importapi is the imports function's route table: the roster
// template, a new import's upload URL, an import's status and its report
// (also through the summary email's signed link). The file itself is
// applied by shared/ingest, in the ingest function.
package importapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/fault"
	"onboarding/shared/httpapi"
	"onboarding/shared/importjob"
	"onboarding/shared/invite"
	"onboarding/shared/org"
	"onboarding/shared/roster"
)

// Presigner makes the URLs an upload and its reports go through.
type Presigner interface {
	// PresignPut returns a URL that uploads key, of exactly size bytes.
	PresignPut(ctx context.Context, key string, size int64, ttl time.Duration) (string, error)
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Orgs tells who may import into an organisation, and what its template
// lists (*org.Service).
type Orgs interface {
	MayImport(ctx context.Context, userID, orgID string) (org.Organisation, access.Actor, error)
	ImportTemplate(ctx context.Context, userID, orgID string) (org.ImportTemplate, error)
}

// Jobs opens and reads imports (the store; see importjob.JobStore).
type Jobs interface {
	// OpenImport stores a new job unless its organisation has limit open.
	OpenImport(ctx context.Context, j importjob.Job, limit int) (opened bool, err error)
	// Import reads one job, or nil.
	Import(ctx context.Context, orgID, id string) (*importjob.Job, error)
}

// Routes serves the import routes. It reaches the domain and storage
// through the interfaces above, which hold only the calls the routes make,
// so route tests can run on fakes.
type Routes struct {
	Orgs    Orgs
	Jobs    Jobs
	Objects Presigner
	// Links makes the report links an import's status gives, and opens
	// them and those of summary emails (made by the ingest function with
	// the same key): the one way reports are handed out.
	Links *importjob.ReportLinks
	// PublicBaseURL is where the links point; "" for the domain the request
	// came to (httpapi.Request.BaseURL).
	PublicBaseURL string
	Now           func() time.Time
	// ReportRetention is how long the bucket keeps reports (its lifecycle
	// rule); a report older than that is gone. Zero: kept for ever.
	ReportRetention time.Duration
	// MaxBytes is the largest file an upload URL is made for: the ingest
	// function's limit (default roster.DefaultMaxBytes).
	MaxBytes int64
	// MaxOpen is how many imports an organisation may have awaiting upload
	// or running at once (default importjob.MaxOpenPerOrg).
	MaxOpen int
}

// Register adds the routes to rt.
func (h *Routes) Register(rt *httpapi.Router) {
	rt.Authed("GET /orgs/{orgId}/imports/template", h.template)
	rt.Authed("POST /orgs/{orgId}/imports", h.create)
	rt.Authed("GET /orgs/{orgId}/imports/{importId}", h.get)
	rt.Authed("GET /orgs/{orgId}/imports/{importId}/report", h.report)
	// Public: a summary email's link, opened in a mail client with no
	// token. Its signature stands in for one.
	rt.Public("GET "+importjob.ReportLinkPath, h.linkedReport)
}

// reportLinkTTL is how long the URL the report route redirects to works:
// long enough to follow the redirect.
const reportLinkTTL = 5 * time.Minute

// busyRetry is the Retry-After of an organisation with every place for
// imports taken: most imports finish within a minute (10,000 rows took
// 26 s through the runner), and an unused upload URL frees its place within
// importjob.UploadWindow + UploadGrace and a sweep interval.
const busyRetry = time.Minute

type createRequest struct {
	FileName string `json:"fileName"`
	// Size is the file's exact size in bytes, signed into the upload URL.
	// Required: a URL that does not bind the length would store whatever
	// its holder sends, up to S3's 5 GB.
	Size            int64 `json:"size"`
	FullRoster      bool  `json:"fullRoster"`
	ConfirmRemovals bool  `json:"confirmRemovals"`
	// Columns maps headers of the file to fields (roster.MappingFields).
	Columns map[string]string `json:"columns"`
}

// Upload is where to PUT the file.
type Upload struct {
	ImportID  string    `json:"importId"`
	Method    string    `json:"method"`
	UploadURL string    `json:"uploadUrl"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// safeName keeps a file name to letters, digits and . - _ (spaces become
// _), so it is a plain S3 key segment.
func safeName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == ' ':
			b.WriteByte('_')
		case r < 128 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'):
			b.WriteRune(r)
		}
	}
	out := b.String()
	ext := strings.ToLower(path.Ext(out))
	if ext != ".xlsx" && ext != ".csv" {
		return "", fault.New(fault.Invalid, "an .xlsx or .csv file")
	}
	if len(out) > 120 || len(out) <= len(ext) {
		return "", fault.New(fault.Invalid, "1 to 120 characters")
	}
	return out, nil
}

// create starts an import: the job, and a URL to PUT the file to. The
// upload itself starts the import.
func (h *Routes) create(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in createRequest
	// Strict: a field dropped unseen (a misspelt fullRoster or columns)
	// would change what the import does to people.
	if err := r.DecodeStrict(&in); err != nil {
		return httpapi.Response{}, err
	}
	orgID := r.Param("orgId")
	o, _, err := h.Orgs.MayImport(ctx, r.UserID(), orgID)
	if err != nil {
		return httpapi.Response{}, err
	}
	var errs fault.Fields
	name, err := safeName(in.FileName)
	if err != nil {
		e, _ := fault.As(err)
		errs.Add("fileName", string(fault.Invalid), e.Message)
	}
	if _, err := roster.ParseMapping(in.Columns, o.Settings.CustomFields...); err != nil {
		e, _ := fault.As(err)
		errs = append(errs, e.Fields...)
	}
	maxBytes := h.MaxBytes
	if maxBytes <= 0 {
		maxBytes = roster.DefaultMaxBytes
	}
	if in.Size < 1 || in.Size > maxBytes {
		errs.Add("size", string(fault.Invalid), fmt.Sprintf("the file's size in bytes, 1 to %d (%d MB)", maxBytes, maxBytes>>20))
	}
	if err := errs.Err(); err != nil {
		return httpapi.Response{}, err
	}
	now := h.Now().UTC().Truncate(time.Second)
	job := importjob.NewUpload(orgID, invite.NewID(), r.UserID(), name, now)
	job.FullRoster, job.ConfirmRemovals, job.Columns = in.FullRoster, in.ConfirmRemovals, in.Columns
	limit := h.MaxOpen
	if limit <= 0 {
		limit = importjob.MaxOpenPerOrg
	}
	opened, err := h.Jobs.OpenImport(ctx, job, limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	if !opened {
		// 429 rather than 409: the same request succeeds later, unchanged,
		// once an import ends by itself (finished, or its URL unused).
		e := fault.New(fault.TooMany, "this organisation has %d imports awaiting upload or running, the most at once: "+
			"try again when one has finished (an upload URL that is not used frees its place within about %d minutes)",
			limit, int((importjob.UploadWindow+importjob.UploadGrace)/time.Minute))
		e.RetryAfter = busyRetry
		return httpapi.Response{}, e
	}
	url, err := h.Objects.PresignPut(ctx, job.Key, in.Size, importjob.UploadWindow)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusCreated, Upload{ImportID: job.ID, Method: http.MethodPut, UploadURL: url, ExpiresAt: *job.UploadBy})
}

// View is an import as the API shows it.
type View struct {
	importjob.Job
	Reports map[string]string `json:"reports,omitempty"`
}

// job is the import the request names, if the caller may see it: its
// report names people across the organisation, so the uploader and
// organisation-wide callers who may import may, unit-scoped ones only their
// own.
func (h *Routes) job(ctx context.Context, r *httpapi.Request) (*importjob.Job, error) {
	orgID := r.Param("orgId")
	_, actor, err := h.Orgs.MayImport(ctx, r.UserID(), orgID)
	if err != nil {
		return nil, err
	}
	job, err := h.Jobs.Import(ctx, orgID, r.Param("importId"))
	if err != nil {
		return nil, err
	}
	if job == nil || !actor.OrgWide() && job.UploadedBy != actor.UserID {
		return nil, fault.New(fault.NotFound, "no such import")
	}
	return job, nil
}

// get shows an import's status and counts, and links to its report once
// done, until the bucket deletes it. The links are the summary email's
// (signed, to GET /imports/report, working for their days): not presigned
// S3 URLs, which die with the temporary credentials that signed them.
func (h *Routes) get(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	job, err := h.job(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	v := View{Job: *job}
	if job.ReportKey != "" && !h.deleted(job) {
		links, now := h.Links.Under(r.BaseURL(h.PublicBaseURL)), h.Now()
		v.Reports = map[string]string{}
		for _, format := range []string{"csv", "xlsx"} {
			v.Reports[format] = links.Make(job.OrgID, job.ID, format, now)
		}
	}
	return httpapi.JSON(http.StatusOK, v)
}

// deleted says the bucket's lifecycle has deleted job's report.
func (h *Routes) deleted(job *importjob.Job) bool {
	return h.ReportRetention > 0 && job.FinishedAt != nil && h.Now().After(job.FinishedAt.Add(h.ReportRetention))
}

// report sends the caller to the import's report, ?format=xlsx (default)
// or csv, through a URL presigned now.
func (h *Routes) report(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	if err := r.OnlyQuery("format"); err != nil {
		return httpapi.Response{}, err
	}
	format := strings.ToLower(r.Query("format"))
	if format == "" {
		format = "xlsx"
	}
	if format != "xlsx" && format != "csv" {
		var errs fault.Fields
		errs.Add("format", string(fault.Invalid), "xlsx or csv")
		return httpapi.Response{}, errs.Err()
	}
	job, err := h.job(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	return h.redirect(ctx, job, format)
}

// linkedReport sends whoever follows a summary email's report link to the
// report it names, through a URL presigned now. The link is checked before
// anything is read: an edited one is a 403, an expired one a 410.
func (h *Routes) linkedReport(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	link, err := h.Links.Open(r.Event.QueryStringParameters, h.Now())
	if err != nil {
		return httpapi.Response{}, err
	}
	job, err := h.Jobs.Import(ctx, link.OrgID, link.ImportID)
	if err != nil {
		return httpapi.Response{}, err
	}
	if job == nil {
		return httpapi.Response{}, fault.New(fault.NotFound, "no such import")
	}
	// The link acts for the uploader it was sent to: once they may no
	// longer import here (removed, or another role) it stops, as their
	// signed-in requests do. A file dropped into the bucket has no uploader;
	// its summary went to the address the deployment configured.
	if job.UploadedBy != "" {
		if _, _, err := h.Orgs.MayImport(ctx, job.UploadedBy, link.OrgID); err != nil {
			if c := fault.CodeOf(err); c != fault.Forbidden && c != fault.NotFound {
				return httpapi.Response{}, err
			}
			return httpapi.Response{}, fault.New(fault.Forbidden, "the person this link was sent to may no longer open this report")
		}
	}
	return h.redirect(ctx, job, link.Format)
}

// redirect answers with a URL to job's report in format, presigned now:
// 404 before the report is written, 410 once the bucket has deleted it.
func (h *Routes) redirect(ctx context.Context, job *importjob.Job, format string) (httpapi.Response, error) {
	if job.ReportKey == "" {
		return httpapi.Response{}, fault.New(fault.NotFound, "the import has no report yet")
	}
	if h.deleted(job) {
		return httpapi.Response{}, fault.New(fault.Gone, "reports are kept %d days; this one has been deleted", int(h.ReportRetention.Hours()/24))
	}
	link, err := h.Objects.PresignGet(ctx, job.ReportKey+"."+format, reportLinkTTL)
	if err != nil {
		return httpapi.Response{}, err
	}
	// The presigned URL is a credential for 5 minutes: not kept by a cache,
	// nor passed on as a Referer.
	return httpapi.Response{StatusCode: http.StatusSeeOther, Headers: map[string]string{"Location": link,
		"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}}, nil
}

const (
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	csvType  = "text/csv; charset=utf-8"
)

// template returns the roster template: ?format=xlsx (default) or csv, in
// ?language= (default the organisation's).
func (h *Routes) template(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var errs fault.Fields
	r.UnknownQuery(&errs, "format", "language")
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
		err = roster.WriteTemplateCSV(&buf, lang, t.Fields)
	} else {
		err = roster.WriteTemplateXLSX(&buf, roster.Template{Language: lang, Roles: t.RoleNames(lang), Units: t.Units, Fields: t.Fields})
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
