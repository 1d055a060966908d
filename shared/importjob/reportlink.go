package importjob

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"onboarding/shared/fault"
)

// ReportLinkPath is the public route a summary email's report link names.
const ReportLinkPath = "/imports/report"

// ReportLinkDays is how long a summary email's link to the report works
// (the email says so): long enough to open an email read days later,
// short enough that a forwarded or leaked email stops exposing the report.
const ReportLinkDays = 7

// reportLinkPurpose keeps a report link's signature apart from anything
// else signed with the same key (list cursors).
const reportLinkPurpose = "import-report"

var (
	errBadReportLink = fault.New(fault.Forbidden, "this link is not valid: open the report with the link in the email, unchanged")
	errReportLinkOld = fault.New(fault.Gone, "this link has expired: open the report from the import's page")
)

// ReportLinks makes and opens the links to reports that summary emails
// carry. A mail client has no access token, so the link is a capability: it
// names the organisation, the import, the format and an expiry, signed with
// HMAC-SHA256 under the deployment's key, and opens that report only, and
// only until it expires. It holds no presigned S3 URL (those die with the
// temporary credentials that signed them, within hours): the route presigns
// one when the link is followed.
type ReportLinks struct {
	key     []byte
	baseURL string
	// Days is how long the links made work: ReportLinkDays, or the
	// report's retention when that is shorter (a link never outlives its
	// report). The email states it.
	Days int
}

// NewReportLinks signs with key (the deployment's; see ddb.Store.CursorKey)
// links under baseURL (the API's public base; "" where links are only
// opened) to reports kept retentionDays (0: for ever).
func NewReportLinks(key []byte, baseURL string, retentionDays int) *ReportLinks {
	if len(key) < 32 {
		panic("importjob: a report link key needs at least 32 bytes")
	}
	days := ReportLinkDays
	if retentionDays > 0 && retentionDays < days {
		days = retentionDays
	}
	return &ReportLinks{key: key, baseURL: baseURL, Days: days}
}

// Under returns links as l makes them, under baseURL: for a function that
// learns the API's base from each request (httpapi.Request.BaseURL).
func (l *ReportLinks) Under(baseURL string) *ReportLinks {
	c := *l
	c.baseURL = baseURL
	return &c
}

// ReportLink is the report a link opens.
type ReportLink struct {
	OrgID, ImportID, Format string
}

// sign is the signature of a link's parameters, exactly as they stand in
// its query. A JSON array keeps the fields apart whatever they hold.
func (l *ReportLinks) sign(orgID, importID, format, expires string) string {
	msg, _ := json.Marshal([]string{reportLinkPurpose, orgID, importID, format, expires})
	m := hmac.New(sha256.New, l.key)
	m.Write(msg)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Make returns the link to an import's report in format (xlsx or csv),
// working from now for Days.
func (l *ReportLinks) Make(orgID, importID, format string, now time.Time) string {
	expires := strconv.FormatInt(now.Add(time.Duration(l.Days)*24*time.Hour).Unix(), 10)
	q := url.Values{"org": {orgID}, "import": {importID}, "format": {format}, "expires": {expires},
		"signature": {l.sign(orgID, importID, format, expires)}}
	return l.baseURL + ReportLinkPath + "?" + q.Encode()
}

// Open checks a link's query parameters at now: a link not made by Make
// with this key, or changed in any part, is Forbidden; one past its expiry
// is Gone. The signature is checked first, so a refusal tells nothing of
// what a link names.
func (l *ReportLinks) Open(q map[string]string, now time.Time) (ReportLink, error) {
	orgID, importID, format, expires := q["org"], q["import"], q["format"], q["expires"]
	want := l.sign(orgID, importID, format, expires)
	if !hmac.Equal([]byte(q["signature"]), []byte(want)) || orgID == "" || importID == "" {
		return ReportLink{}, errBadReportLink
	}
	until, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return ReportLink{}, errBadReportLink
	}
	if !now.Before(time.Unix(until, 0)) {
		return ReportLink{}, errReportLinkOld
	}
	return ReportLink{OrgID: orgID, ImportID: importID, Format: format}, nil
}
