package roster

import (
	"os"
	"regexp"
	"testing"

	"onboarding/shared/locale"
)

// Every key the import code says a note or a file's failure by is in the
// catalogue (which TestEveryMessageInEveryLanguage holds to all 12
// languages): a key with no message would reach the reader as itself.
func TestEveryNoteKeyIsInTheCatalogue(t *testing.T) {
	c, err := locale.Messages()
	if err != nil {
		t.Fatal(err)
	}
	missing := func(prefix, key string) bool { _, ok := c.Keys(locale.Fallback)[prefix+key]; return !ok }
	notes := map[string][]*regexp.Regexp{
		"row.go":                   {regexp.MustCompile(`problem\([^,]+, (?:Error|Warning), "([a-zA-Z.]+)"`)},
		"../ingest/apply/apply.go": {regexp.MustCompile(`Key: "([a-zA-Z.]+)"`)},
		"../org/fields.go":         {regexp.MustCompile(`said\([^,]+, "([a-zA-Z.]+)"`), regexp.MustCompile(`invalid\("([a-zA-Z.]+)"`)},
	}
	files := map[string][]*regexp.Regexp{
		"sheet.go":              {regexp.MustCompile(`fileErrSaid\("([a-zA-Z.]+)"`)},
		"xlsx.go":               {regexp.MustCompile(`fileErrSaid\("([a-zA-Z.]+)"`)},
		"reader.go":             {regexp.MustCompile(`fileErrSaid\("([a-zA-Z.]+)"`)},
		"../ingest/importer.go": {regexp.MustCompile(`Key: "([a-zA-Z.]+)"`), regexp.MustCompile(`MessageKey(?:, job.MessageArgs)? = "([a-zA-Z.]+)"`)},
		"../importjob/stale.go": {regexp.MustCompile(`MessageKey(?:, failed.MessageArgs)? = "([a-zA-Z.]+)"`), regexp.MustCompile(`NoUploadMessage, "([a-zA-Z.]+)"`)},
	}
	count := 0
	check := func(prefix string, sources map[string][]*regexp.Regexp) {
		for file, res := range sources {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, re := range res {
				for _, m := range re.FindAllStringSubmatch(string(src), -1) {
					count++
					if missing(prefix, m[1]) {
						t.Errorf("%s: %s%s is not in the catalogue", file, prefix, m[1])
					}
				}
			}
		}
	}
	check("note.", notes)
	check("file.", files)
	for _, k := range knownMessages {
		count++
		if missing("note.", k.key) {
			t.Errorf("known message %s: note.%s is not in the catalogue", k.re, k.key)
		}
	}
	for _, reason := range []string{NotRecognised, Repeated, NoHeader, MappedToIgnore, NotInFile} {
		if missing("note.", "column."+reason) {
			t.Errorf("note.column.%s is not in the catalogue", reason)
		}
	}
	if count < 40 {
		t.Errorf("only %d keys found: the patterns no longer match the code", count)
	}
}

// NamingRoles says a note's role by the name it is given, leaving other
// notes, unknown roles and the lines given as they were.
func TestNamingRoles(t *testing.T) {
	lines := []ReportLine{{Row: 2, Outcome: Failed, Notes: []Note{
		{Key: "role.mayNotInvite", Args: map[string]string{"Value": "coordinator"}},
		{Key: "role.unknown", Args: map[string]string{"Value": "coordinator"}},
	}}, {Row: 3, Outcome: Failed, Notes: []Note{{Key: "role.mayNotInvite", Args: map[string]string{"Value": "gone"}}}}}
	names := map[string]string{"coordinator": "Koordinator"}
	out := NamingRoles(lines, func(k string) (string, bool) { n, ok := names[k]; return n, ok })
	if out[0].Notes[0].Args["Value"] != "Koordinator" || out[0].Notes[1].Args["Value"] != "coordinator" ||
		out[1].Notes[0].Args["Value"] != "gone" || lines[0].Notes[0].Args["Value"] != "coordinator" {
		t.Fatalf("%+v", out)
	}
}
