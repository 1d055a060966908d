package mail

import (
	"strings"
	"testing"
	"time"

	"onboarding/shared/org"
)

// within fails the test, instead of hanging it, when compose takes more
// than a second.
func within(t *testing.T, what string, compose func() (Message, error)) (Message, error) {
	t.Helper()
	type result struct {
		m   Message
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := compose()
		done <- result{m, err}
	}()
	select {
	case r := <-done:
		return r.m, r.err
	case <-time.After(time.Second):
		t.Fatalf("%s: still composing after a second", what)
		return Message{}, nil
	}
}

// An override stored before templates were checked for actions (or written
// straight into the table) fails its email at once instead of running.
func TestOverrideWithActionFailsTheEmail(t *testing.T) {
	c, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	loop := org.EmailTemplate{Subject: "Hello {{.Name}}", Body: "{{range 100000000000}}.{{end}}"}
	bad := func(kind string) org.EmailTemplates { return org.EmailTemplates{kind: {"en": loop}} }

	inv := sample()
	inv.Templates = bad("invitation")
	if _, err := within(t, "invitation", func() (Message, error) { return c.ComposeInvitation(inv, "https://x/accept#token=t") }); err == nil ||
		!strings.Contains(err.Error(), "{{range}}") {
		t.Fatalf("invitation: %v", err)
	}
	inv.Templates = bad("reminder")
	if _, err := within(t, "reminder", func() (Message, error) { return c.ComposeReminder(inv, "https://x/accept#token=t") }); err == nil {
		t.Fatal("reminder composed")
	}
	inv.Templates = bad("added")
	if _, err := within(t, "added", func() (Message, error) { return c.ComposeAdded(inv, "en", "https://x", "https://x/leave#token=t") }); err == nil {
		t.Fatal("added composed")
	}
	d := ExpiredDigest{To: "ada@example.no", Language: "en", AdminName: "Ada", OrgName: "Nordlys", Total: 1, Templates: bad("expired")}
	if _, err := within(t, "digest", func() (Message, error) { return c.ComposeExpiredDigest(d) }); err == nil {
		t.Fatal("digest composed")
	}
	s := ImportSummary{To: "ada@example.no", Language: "en", Name: "Ada", OrgName: "Nordlys", FileName: "r.xlsx", Templates: bad("import")}
	if _, err := within(t, "import", func() (Message, error) { return c.ComposeImportSummary(s) }); err == nil {
		t.Fatal("import summary composed")
	}
}

// What an override fills in is escaped in the HTML part, as the
// organisation's own text is.
func TestOverrideIsEscapedInHTML(t *testing.T) {
	c, _ := LoadCatalogue()
	inv := sample() // the organisation is "Nordlys <Care>"
	inv.Templates = org.EmailTemplates{"invitation": {"en": {Subject: "Join {{.OrgName}}", Body: "Hi {{.Name}}, <b>{{.OrgName}}</b> waits."}}}
	m, err := within(t, "invitation", func() (Message, error) { return c.ComposeInvitation(inv, "https://x/accept#token=t") })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<Care>") || strings.Contains(m.HTML, "<b>") ||
		!strings.Contains(m.HTML, "&lt;b&gt;Nordlys &lt;Care&gt;&lt;/b&gt; waits.") {
		t.Fatalf("html not escaped:\n%s", m.HTML)
	}
	if m.Subject != "Join Nordlys <Care>" || !strings.Contains(m.Text, "<b>Nordlys <Care></b> waits.") {
		t.Fatalf("subject %q text\n%s", m.Subject, m.Text)
	}
}

// A part filled in longer than org.MaxRenderedBytes fails the email.
func TestOverrideOutputIsCapped(t *testing.T) {
	c, _ := LoadCatalogue()
	inv := sample()
	inv.FirstName = strings.Repeat("K", org.MaxRenderedBytes)
	inv.Templates = org.EmailTemplates{"invitation": {"en": {Subject: "Hello", Body: "Hi {{.Name}}"}}}
	if _, err := within(t, "invitation", func() (Message, error) { return c.ComposeInvitation(inv, "https://x/accept#token=t") }); err == nil ||
		!strings.Contains(err.Error(), "64 KiB") {
		t.Fatalf("an override filled in over the cap: %v", err)
	}
}
