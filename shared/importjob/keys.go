package importjob

import (
	"fmt"
	"strings"

	"onboarding/shared/redact"
)

// The bucket's keys, built and read here only: the upload routes, the
// ingest run and the stale-import step agree on them without linking the
// run (and its spreadsheet library). The template's lifecycle rules expire
// both prefixes.

// UploadKey is where an import's file is uploaded through the API: under
// imports/, whose ObjectCreated events start the ingest function.
func UploadKey(orgID, importID, fileName string) string {
	return "imports/" + orgID + "/" + importID + "/" + fileName
}

// ParseKey reads imports/<orgId>/<importId>/<file> (an upload through the
// API) or imports/<orgId>/<file> (a file dropped in directly).
func ParseKey(key string) (orgID, importID, file string, err error) {
	parts := strings.Split(key, "/")
	switch {
	case len(parts) == 3 && parts[0] == "imports" && parts[1] != "" && parts[2] != "":
		return parts[1], "", parts[2], nil
	case len(parts) == 4 && parts[0] == "imports" && parts[1] != "" && parts[2] != "" && parts[3] != "":
		return parts[1], parts[2], parts[3], nil
	}
	return "", "", "", fmt.Errorf("%q is not imports/<orgId>/<file> or imports/<orgId>/<importId>/<file>", redact.Text(key))
}

// ReportKey is where an import's report goes (without its extension):
// outside imports/, so writing it triggers nothing.
func ReportKey(orgID, importID string) string { return "reports/" + orgID + "/" + importID + "/report" }

// ReportPartKey is where a run that hands over keeps its report lines, from
// firstRow on, until the last run writes the report.
func ReportPartKey(orgID, importID string, firstRow int) string {
	return fmt.Sprintf("%s-part-%07d.json", ReportKey(orgID, importID), firstRow)
}
