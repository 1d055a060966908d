package mail

import (
	"strings"
	"testing"
	"time"

	"onboarding/shared/invite"
	"onboarding/shared/locale"
)

// Dates in emails are in the reader's form: the invitation's expiry, the
// reminder's subject, the expired digest.
func TestEmailDatesInTheReadersForm(t *testing.T) {
	c, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	inv := invite.Invitation{Email: "kari@example.no", OrgName: "Nordlys", InviterName: "Ada", Role: "member",
		ExpiresAt: time.Date(2026, 12, 31, 10, 0, 0, 0, time.UTC)}
	for lang, want := range map[string]string{"nb": "31.12.2026", "nb-NO": "31.12.2026", "sv": "2026-12-31", "en": "31/12/2026",
		"en-US": "12/31/2026", "nl": "31-12-2026", "de": "31.12.2026"} {
		inv.Language = lang
		m, err := c.ComposeInvitation(inv, "https://x/accept#token=t")
		if err != nil || !strings.Contains(m.Text, want) || strings.Contains(m.Text, "2026-12-31") && want != "2026-12-31" {
			t.Errorf("%s invitation: want %s: %v\n%s", lang, want, err, m.Text)
		}
		r, err := c.ComposeReminder(inv, "https://x/accept#token=t")
		if err != nil || !strings.Contains(r.Subject, want) {
			t.Errorf("%s reminder subject %q: want %s: %v", lang, r.Subject, want, err)
		}
		d, err := c.ComposeExpiredDigest(ExpiredDigest{To: "ada@example.no", Language: lang, OrgName: "Nordlys",
			Invitations: []invite.Invitation{inv}, Link: "https://x"})
		if err != nil || !strings.Contains(d.Text, want) {
			t.Errorf("%s digest: want %s: %v\n%s", lang, want, err, d.Text)
		}
	}
}

// Why a whole file failed is said in the uploader's language.
func TestImportProblemInTheUploadersLanguage(t *testing.T) {
	c, _ := LoadCatalogue()
	s := ImportSummary{To: "ada@example.no", Language: "nb", OrgName: "Nordlys", FileName: "liste.xlsx",
		Problem: "the file is larger than 50 MB", ProblemKey: "tooLarge", ProblemArgs: map[string]string{"MB": "50"}}
	m, err := c.ComposeImportSummary(s)
	if err != nil || !strings.Contains(m.Text, "Filen er større enn 50 MB.") || strings.Contains(m.Text, "larger than") {
		t.Fatalf("%v\n%s", err, m.Text)
	}
	msgs, _ := locale.Messages()
	for _, lang := range required {
		s.Language = lang
		m, err := c.ComposeImportSummary(s)
		want, _ := msgs.Render(lang, "file.tooLarge", s.ProblemArgs)
		if err != nil || want == "" || !strings.Contains(m.Text, want) {
			t.Errorf("%s: %v\n%s", lang, err, m.Text)
		}
	}
}
