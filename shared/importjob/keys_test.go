package importjob_test

import (
	"strings"
	"testing"
	"time"

	"onboarding/shared/importjob"
)

// The key an upload URL is made for reads back as the same import, a file
// dropped in directly as one without an id, and nothing else as an import.
func TestKeysReadBack(t *testing.T) {
	for _, tc := range []struct {
		key                   string
		orgID, importID, file string
	}{
		{importjob.UploadKey("o1", "i1", "Vaktliste uke 48 Øst.xlsx"), "o1", "i1", "Vaktliste uke 48 Øst.xlsx"},
		{importjob.NewUpload("o1", "i2", "u1", "roster.csv", time.Now()).Key, "o1", "i2", "roster.csv"},
		{"imports/o1/a+b & c%d=e?.csv", "o1", "", "a+b & c%d=e?.csv"},
	} {
		orgID, importID, file, err := importjob.ParseKey(tc.key)
		if err != nil || orgID != tc.orgID || importID != tc.importID || file != tc.file {
			t.Errorf("ParseKey(%q) = %q, %q, %q, %v", tc.key, orgID, importID, file, err)
		}
	}
	for _, key := range []string{"", "imports/o1", "imports//roster.csv", "imports/o1/i1/", "imports/o1/i1/x/roster.csv",
		"uploads/o1/roster.csv", importjob.ReportKey("o1", "i1") + ".csv", importjob.ReportPartKey("o1", "i1", 51)} {
		if _, _, _, err := importjob.ParseKey(key); err == nil {
			t.Errorf("ParseKey(%q) read an import", key)
		}
	}
}

// Reports and their parts are written outside imports/: writing them must
// not start the ingest function again.
func TestReportsTriggerNothing(t *testing.T) {
	for _, key := range []string{importjob.ReportKey("o1", "i1"), importjob.ReportPartKey("o1", "i1", 51)} {
		if strings.HasPrefix(key, "imports/") || !strings.HasPrefix(key, "reports/o1/i1/") {
			t.Errorf("%q is not under reports/o1/i1/", key)
		}
	}
	if importjob.ReportPartKey("o1", "i1", 1) == importjob.ReportPartKey("o1", "i1", 51) {
		t.Error("two runs' parts share a key")
	}
}
