package locale

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"
)

var required = []string{"ar", "da", "de", "en", "es", "fi", "fr", "id", "nb", "nl", "pl", "sv"}

func TestDatesInEachLanguagesShortForm(t *testing.T) {
	d := time.Date(2026, 12, 31, 14, 5, 0, 0, time.UTC)
	cases := map[string]string{
		"nb": "31.12.2026", "nb-NO": "31.12.2026", "no": "31.12.2026", "da": "31.12.2026", "de": "31.12.2026",
		"fi": "31.12.2026", "pl": "31.12.2026", "sv": "2026-12-31", "sv-FI": "2026-12-31",
		"en": "31/12/2026", "en-GB": "31/12/2026", "en-US": "12/31/2026", "fr": "31/12/2026", "es": "31/12/2026",
		"id": "31/12/2026", "nl": "31-12-2026", "ar": "٣١\u200f/١٢\u200f/٢٠٢٦", "pt": "31/12/2026", "": "31/12/2026",
	}
	for lang, want := range cases {
		if got := Date(d, lang); got != want {
			t.Errorf("Date(%q) = %q, want %q", lang, got, want)
		}
	}
	// CLDR's Finnish leaves the day and month unpadded.
	if got := Date(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "fi"); got != "2.1.2026" {
		t.Errorf("fi: %q", got)
	}
	for lang, want := range map[string]string{"nb": "31.12.2026 14:05 UTC", "en-US": "12/31/2026 2:05 PM UTC", "da": "31.12.2026 14.05 UTC"} {
		if got := DateTime(d, lang); got != want {
			t.Errorf("DateTime(%q) = %q, want %q", lang, got, want)
		}
	}
}

// TestEveryMessageInEveryLanguage: every key of the English catalogue is
// in all 12 languages, translated (not left in English), with the same
// placeholders, and renders.
func TestEveryMessageInEveryLanguage(t *testing.T) {
	c, err := Messages()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Languages(), ","); got != strings.Join(required, ",") {
		t.Fatalf("languages %s, want %s", got, strings.Join(required, ","))
	}
	// Rightly the same as English in some languages.
	same := map[string]bool{"report.message": true, "report.email": true, "report.sheet": true, "outcome.error": true,
		"change.mobile": true, "change.name": true, "report.outcome": true,
		"csv.status": true, "csv.version": true, "csv.email": true, "csv.mobile": true}
	en := c.Keys("en")
	for _, lang := range required {
		for key, src := range en {
			got, ok := c.Keys(lang)[key]
			switch {
			case !ok || strings.TrimSpace(got) == "":
				t.Errorf("%s: %s is missing", lang, key)
				continue
			case lang != "en" && got == src && !same[key]:
				t.Errorf("%s: %s is left in English: %q", lang, key, got)
			case placeholders(got) != placeholders(src):
				t.Errorf("%s: %s uses %s, English uses %s", lang, key, placeholders(got), placeholders(src))
			}
			args := map[string]string{}
			for _, p := range strings.Split(strings.Trim(placeholders(src), "[]"), ",") {
				if p = strings.Trim(p, `"`); p != "" {
					args[strings.TrimPrefix(p, ".")] = "7"
				}
			}
			if out, err := c.Render(lang, key, args); err != nil || strings.Contains(out, "{{") {
				t.Errorf("%s: %s does not render: %v %q", lang, key, err, out)
			}
		}
		for key := range c.Keys(lang) {
			if _, ok := en[key]; !ok {
				t.Errorf("%s: %s is not an English key", lang, key)
			}
		}
	}
}

func placeholders(s string) string {
	var out []string
	for _, part := range strings.Split(s, "{{")[1:] {
		if end := strings.Index(part, "}}"); end >= 0 && !contains(out, part[:end]) {
			out = append(out, part[:end])
		}
	}
	sort.Strings(out)
	b, _ := json.Marshal(out)
	return string(b)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestPrinterWritesDatesForTheReader(t *testing.T) {
	c, _ := Messages()
	args := map[string]string{"EffectiveDate": "2026-12-31", "Days": "14"}
	if got := c.For("nb-NO").Text("note.rota.shortNotice", args); !strings.Contains(got, "31.12.2026") || !strings.HasPrefix(got, "gjelder fra") {
		t.Errorf("nb: %q", got)
	}
	if got := c.For("en-US").Text("note.rota.shortNotice", args); !strings.Contains(got, "12/31/2026") {
		t.Errorf("en-US: %q", got)
	}
	if p := c.For("pt", "sv"); p.Lang != "sv" || p.Tag != "sv" {
		t.Errorf("pt, sv: %+v", p)
	}
	if got := c.For("nb").Text("no.such.key", nil); got != "no.such.key" {
		t.Errorf("unknown key: %q", got)
	}
}
