package mail

import (
	"strings"
	"testing"
)

// Both emails of an email change render in every language, in its
// direction, with nothing left unfilled: the link to the new address, and
// to the old the new one masked.
func TestEmailChangeEmailsInEveryLanguage(t *testing.T) {
	c, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	const link = "https://x/email-change#token=tok"
	for _, lang := range required {
		change, err := c.ComposeEmailChange("new@example.no", lang, "Kari", link)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		notice, err := c.ComposeEmailChangeNotice("kari@example.no", lang, "Kari", "new.address@example.no")
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		wantDir := `dir="ltr"`
		if lang == "ar" {
			wantDir = `dir="rtl"`
		}
		for kind, m := range map[string]Message{"emailChange": change, "emailChanged": notice} {
			for part, text := range map[string]string{"subject": m.Subject, "html": m.HTML, "text": m.Text} {
				if strings.Contains(text, "{{") || strings.Contains(text, "<no value>") || strings.TrimSpace(text) == "" {
					t.Errorf("%s/%s %s is not fully rendered: %q", lang, kind, part, text)
				}
			}
			if !strings.Contains(m.HTML, `lang="`+lang+`" `+wantDir) || !strings.Contains(m.Text, "Kari") {
				t.Errorf("%s/%s: no %s or no greeting", lang, kind, wantDir)
			}
		}
		if !strings.Contains(change.Text, link) || !strings.Contains(change.HTML, `href="`+link+`"`) || !strings.Contains(change.Text, "24") {
			t.Errorf("%s: the confirmation lacks its link or lifetime:\n%s", lang, change.Text)
		}
		if !strings.Contains(notice.Text, "n***@example.no") || strings.Contains(notice.Text, "new.address@") || strings.Contains(notice.Text, "#token") {
			t.Errorf("%s: the notice should name the new address masked, and carry no link:\n%s", lang, notice.Text)
		}
	}
}
