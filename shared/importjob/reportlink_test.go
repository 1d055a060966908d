package importjob_test

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"onboarding/shared/fault"
	"onboarding/shared/importjob"
)

// query is the parameters of a link, as API Gateway hands them over.
func query(t *testing.T, link string) map[string]string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := map[string]string{}
	for k, v := range u.Query() {
		q[k] = strings.Join(v, ",")
	}
	return q
}

// The emailed link to a report opens only as it was made, until it
// expires: any part edited (organisation, import, format, expiry,
// signature), dropped, or signed with another deployment's key is refused.
func TestReportLinks(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	links := importjob.NewReportLinks(key, "https://onboard.example", 30)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	link := links.Make("org1", "imp1", "xlsx", now)
	if !strings.HasPrefix(link, "https://onboard.example"+importjob.ReportLinkPath+"?") {
		t.Fatalf("link %s", link)
	}
	q := query(t, link)
	if q["expires"] != strconv.FormatInt(now.Add(importjob.ReportLinkDays*24*time.Hour).Unix(), 10) {
		t.Fatalf("expires %s, want the email's %d days", q["expires"], importjob.ReportLinkDays)
	}
	got, err := links.Open(q, now.Add(importjob.ReportLinkDays*24*time.Hour-time.Second))
	if err != nil || got != (importjob.ReportLink{OrgID: "org1", ImportID: "imp1", Format: "xlsx"}) {
		t.Fatalf("a link as made: %+v %v", got, err)
	}

	edit := func(k, v string) map[string]string {
		e := map[string]string{}
		for qk, qv := range q {
			e[qk] = qv
		}
		if v == "" {
			delete(e, k)
		} else {
			e[k] = v
		}
		return e
	}
	other := importjob.NewReportLinks(bytes.Repeat([]byte{8}, 32), "https://onboard.example", 30)
	sig := q["signature"]
	flipped := string(sig[0]^1) + sig[1:]
	for name, edited := range map[string]map[string]string{
		"another organisation":      edit("org", "org2"),
		"another import":            edit("import", "imp2"),
		"another format":            edit("format", "csv"),
		"a later expiry":            edit("expires", strconv.FormatInt(now.Add(365*24*time.Hour).Unix(), 10)),
		"the expiry written longer": edit("expires", "0"+q["expires"]),
		"a signature changed":       edit("signature", flipped),
		"a signature cut short":     edit("signature", sig[:22]),
		"no signature":              edit("signature", ""),
		"no expiry":                 edit("expires", ""),
		"no organisation":           edit("org", ""),
		"another deployment's key":  query(t, other.Make("org1", "imp1", "xlsx", now)),
	} {
		if _, err := links.Open(edited, now); fault.CodeOf(err) != fault.Forbidden {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}

	// Expired: refused as gone, even a second after.
	if _, err := links.Open(q, now.Add(importjob.ReportLinkDays*24*time.Hour)); fault.CodeOf(err) != fault.Gone {
		t.Errorf("expired: %v, want gone", err)
	}
	// A link never outlives the report it opens: with reports kept 3 days,
	// links work 3 days (and the email says so).
	short := importjob.NewReportLinks(key, "https://onboard.example", 3)
	if short.Days != 3 || links.Days != importjob.ReportLinkDays {
		t.Fatalf("days %d and %d", short.Days, links.Days)
	}
	if _, err := short.Open(query(t, short.Make("org1", "imp1", "csv", now)), now.Add(3*24*time.Hour)); fault.CodeOf(err) != fault.Gone {
		t.Errorf("past the retention: %v, want gone", err)
	}
}
