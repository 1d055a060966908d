package mail

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	acct "onboarding/shared/account"
	"onboarding/shared/invite"
	"onboarding/shared/org"
	"onboarding/shared/partner"
)

// The languages every email must exist in.
var required = []string{"en", "nb", "sv", "da", "fi", "fr", "de", "es", "nl", "pl", "id", "ar"}

// sameAsEnglish lists strings that are rightly identical to English.
var sameAsEnglish = map[string]bool{
	"direction":     true,
	"nb/role.admin": true, // "administrator" in these languages too
	"da/role.admin": true,
	"pl/role.admin": true,
	"id/role.admin": true,
}

func TestEveryLanguageHasEveryString(t *testing.T) {
	c, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	have := strings.Join(c.Languages(), ",")
	for _, lang := range required {
		if _, ok := c.Strings[lang]; !ok {
			t.Fatalf("language %s missing; have %s", lang, have)
		}
	}
	en := c.Strings["en"]
	for _, lang := range required {
		for key, src := range en {
			got, ok := c.Strings[lang][key]
			switch {
			case !ok || strings.TrimSpace(got) == "":
				t.Errorf("%s: %s is missing", lang, key)
			case lang != "en" && got == src && !sameAsEnglish[key] && !sameAsEnglish[lang+"/"+key]:
				t.Errorf("%s: %s is left in English: %q", lang, key, got)
			case placeholders(got) != placeholders(src):
				t.Errorf("%s: %s uses %s, English uses %s", lang, key, placeholders(got), placeholders(src))
			}
		}
		for key := range c.Strings[lang] {
			if _, ok := en[key]; !ok {
				t.Errorf("%s: %s is not an English key", lang, key)
			}
		}
	}
}

// placeholders lists a string's {{.Field}} uses, sorted, as a signature.
func placeholders(s string) string {
	var out []string
	for _, part := range strings.Split(s, "{{")[1:] {
		if end := strings.Index(part, "}}"); end >= 0 {
			out = append(out, part[:end])
		}
	}
	b, _ := json.Marshal(sortedUnique(out))
	return string(b)
}

func sortedUnique(s []string) []string {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	out := []string{}
	for v := range m {
		out = append(out, v)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestEveryEmailRendersInEveryLanguage(t *testing.T) {
	c, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	inv := invite.Invitation{
		Email: "kari@example.no", FirstName: "Kari", LastName: "Nordmann", OrgName: "Nordlys Omsorg",
		InviterName: "Ada Admin", Role: "coordinator", Message: "Velkommen!",
		ExpiresAt: time.Date(2026, 12, 23, 10, 0, 0, 0, time.UTC),
	}
	for _, lang := range required {
		inv.Language = lang
		kinds := map[string]func() (Message, error){
			"invitation": func() (Message, error) { return c.ComposeInvitation(inv, "https://x/accept#token=t") },
			"reminder":   func() (Message, error) { return c.ComposeReminder(inv, "https://x/accept#token=t") },
			"added": func() (Message, error) {
				return c.ComposeAdded(inv, lang, "https://x", "https://x/leave#token=leave-t")
			},
			"expired": func() (Message, error) {
				return c.ComposeExpiredDigest(ExpiredDigest{To: "ada@example.no", Language: lang, AdminName: "Ada", OrgName: inv.OrgName,
					Invitations: []invite.Invitation{inv}, Link: "https://x/invitations"})
			},
			"import": func() (Message, error) {
				return c.ComposeImportSummary(ImportSummary{To: "ada@example.no", Language: lang, Name: "Ada", OrgName: inv.OrgName,
					FileName: "roster.xlsx", Created: 3, Updated: 2, Removed: 1, Errors: 4, ReportURL: "https://x/report"})
			},
			// The report link works for as long as the email says, in its
			// language, whatever text the organisation gave the email.
			"report days": func() (Message, error) {
				s := ImportSummary{To: "ada@example.no", Language: lang, Name: "Ada", OrgName: inv.OrgName,
					FileName: "roster.xlsx", Created: 3, ReportURL: "https://x/imports/report?signature=s", ReportDays: 7}
				m, err := c.ComposeImportSummary(s)
				days, _ := c.T(lang, "import.reportDays", map[string]any{"ReportDays": 7})
				if err == nil && (days == "" || !strings.Contains(m.Text, days) || !strings.Contains(m.HTML, days) || !strings.Contains(days, "7")) {
					t.Errorf("%s: the summary does not say how long its link works (%q):\n%s", lang, days, m.Text)
				}
				s.Templates = org.EmailTemplates{"import": {lang: {Subject: "Import {{.FileName}} {{.OrgName}}", Body: "Done."}}}
				if o, err := c.ComposeImportSummary(s); err != nil || days == "" || !strings.Contains(o.Text, days) {
					t.Errorf("%s: under the organisation's text the summary does not say how long its link works: %v\n%s", lang, err, o.Text)
				}
				if n, err := c.ComposeImportSummary(ImportSummary{To: "ada@example.no", Language: lang, OrgName: inv.OrgName, FileName: "roster.xlsx",
					ReportDays: 7}); err != nil || days != "" && strings.Contains(n.Text, days) {
					t.Errorf("%s: a summary without a link speaks of one: %v\n%s", lang, err, n.Text)
				}
				return m, err
			},
			// An import given up because its runs kept stopping: why, in the
			// uploader's language (Problem is the status message, in English).
			"stalled": func() (Message, error) {
				m, err := c.ComposeImportSummary(ImportSummary{To: "ada@example.no", Language: lang, Name: "Ada", OrgName: inv.OrgName,
					FileName: "roster.xlsx", Created: 3, Problem: "the import kept stopping", Stalled: true})
				if err == nil && (!strings.Contains(m.Text, c.Strings[lang]["import.stalled"]) || lang != "en" && strings.Contains(m.Text, "kept stopping")) {
					t.Errorf("%s: the stalled import's summary does not say why in its language:\n%s", lang, m.Text)
				}
				return m, err
			},
			"partner": func() (Message, error) {
				p := partner.Partner{Name: "Vakt 24", Email: &partner.EmailChannel{Addresses: []string{"vakt@example.no"}, Language: lang}}
				return c.ComposePartnerChanges(p, PartnerOrg{Name: inv.OrgName}, partner.Delivery{ID: "d1", Events: []partner.Event{{Type: partner.WorkerAdded}}})
			},
			"roster": func() (Message, error) {
				p := partner.Partner{Name: "Vakt 24", Email: &partner.EmailChannel{Addresses: []string{"vakt@example.no"}, Language: lang}}
				return c.ComposePartnerRoster(p, PartnerOrg{Name: inv.OrgName}, partner.Delivery{ID: "d2", Kind: partner.KindRoster, Events: []partner.Event{{Type: partner.WorkerCurrent}}})
			},
			"reset": func() (Message, error) {
				return c.ComposePasswordReset(acct.Account{Email: "kari@example.no", FirstName: "Kari", Language: lang}, "https://x/reset#token=reset-t")
			},
			"webhook": func() (Message, error) {
				return c.ComposeWebhookDisabled(org.Recipient{Email: "ada@example.no", Language: lang, Name: "Ada"}, inv.OrgName, partner.Partner{Name: "Vakt 24"})
			},
		}
		for kind, compose := range kinds {
			m, err := compose()
			if err != nil {
				t.Errorf("%s/%s: %v", lang, kind, err)
				continue
			}
			for part, text := range map[string]string{"subject": m.Subject, "html": m.HTML, "text": m.Text} {
				if strings.Contains(text, "{{") || strings.Contains(text, "<no value>") || strings.TrimSpace(text) == "" {
					t.Errorf("%s/%s %s is not fully rendered: %q", lang, kind, part, text)
				}
			}
			subjectNames := "Nordlys Omsorg"
			if kind == "import" || kind == "stalled" || kind == "report days" {
				subjectNames = "roster.xlsx"
			}
			if kind == "reset" { // a person's own account: no organisation; the link in both parts
				if !strings.Contains(m.Text, "https://x/reset#token=reset-t") || !strings.Contains(m.HTML, `href="https://x/reset#token=reset-t"`) || !strings.Contains(m.Text, "Kari") {
					t.Errorf("%s/reset lacks the link or the name:\n%s", lang, m.Text)
				}
			} else if !strings.Contains(m.Subject, subjectNames) || !strings.Contains(m.Text, "Nordlys Omsorg") {
				t.Errorf("%s/%s: subject %q should name %s, and the text the organisation", lang, kind, m.Subject, subjectNames)
			}
			if kind == "added" && (!strings.Contains(m.Text, "https://x/leave#token=leave-t") || !strings.Contains(m.HTML, `href="https://x/leave#token=leave-t"`)) {
				t.Errorf("%s/added lacks the leave link:\n%s", lang, m.Text)
			}
			wantDir := `dir="ltr"`
			if lang == "ar" {
				wantDir = `dir="rtl"`
			}
			if !strings.Contains(m.HTML, `lang="`+lang+`" `+wantDir) {
				t.Errorf("%s/%s html lacks lang and %s", lang, kind, wantDir)
			}
		}
	}
}

func TestLanguageChoice(t *testing.T) {
	c, _ := LoadCatalogue()
	cases := []struct {
		prefs []string
		want  string
	}{
		{[]string{"nb"}, "nb"},
		{[]string{"nb-NO"}, "nb"},
		{[]string{"no"}, "nb"},
		{[]string{"sv-FI"}, "sv"},
		{[]string{"ar-EG"}, "ar"},
		{[]string{"pt", "da"}, "da"}, // the invitee's language is not offered: the organisation's default
		{[]string{"pt", ""}, "en"},   // neither: English
		{[]string{"", "fi"}, "fi"},
	}
	for _, tc := range cases {
		if got := c.Match(tc.prefs...); got != tc.want {
			t.Errorf("Match(%q) = %s, want %s", tc.prefs, got, tc.want)
		}
	}
	if got := c.RoleName("de", "coordinator"); got != "Koordinator" {
		t.Errorf("role name %q", got)
	}
	if got := c.RoleName("de", "night-nurse"); got != "night-nurse" {
		t.Errorf("custom role %q", got)
	}
}

func TestOrganisationOverride(t *testing.T) {
	c, _ := LoadCatalogue()
	inv := invite.Invitation{
		Email: "kari@example.no", FirstName: "Kari", OrgName: "Nordlys", InviterName: "Ada", Role: "member", Language: "nb",
		ExpiresAt: time.Date(2026, 12, 23, 0, 0, 0, 0, time.UTC),
		Templates: org.EmailTemplates{"invitation": {"nb": {
			Subject: "Velkommen til {{.OrgName}}, {{.Name}}",
			Body:    "Hei {{.Name}}!\n\nVi gleder oss til å jobbe med deg som {{.Role}}.",
		}}},
	}
	m, err := c.ComposeInvitation(inv, "https://x/accept#token=t")
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Velkommen til Nordlys, Kari" || !strings.Contains(m.Text, "som medlem") || !strings.Contains(m.Text, "https://x/accept#token=t") {
		t.Fatalf("override not applied, or the link lost: %q\n%s", m.Subject, m.Text)
	}
	// Other languages keep the built-in email.
	inv.Language = "sv"
	m, _ = c.ComposeInvitation(inv, "https://x/accept#token=t")
	if !strings.HasPrefix(m.Subject, "Ada har bjudit in dig") {
		t.Fatalf("sv subject %q", m.Subject)
	}
}

// An organisation's own "added" email keeps the link to leave, as every
// override keeps the action button.
func TestAddedOverrideKeepsTheLeaveLink(t *testing.T) {
	c, _ := LoadCatalogue()
	inv := invite.Invitation{Email: "kari@example.no", OrgName: "Nordlys", InviterName: "Ada", Role: "member", Language: "nb",
		Templates: org.EmailTemplates{"added": {"nb": {Subject: "Velkommen til {{.OrgName}}", Body: "Du er med nå."}}}}
	m, err := c.ComposeAdded(inv, "nb", "https://x", "https://x/leave#token=leave-t")
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Velkommen til Nordlys" || !strings.Contains(m.Text, "Du er med nå.") || !strings.Contains(m.Text, "https://x/leave#token=leave-t") ||
		!strings.Contains(m.Text, "Meld deg ut av Nordlys") {
		t.Fatalf("override without the leave link: %q\n%s", m.Subject, m.Text)
	}
}
