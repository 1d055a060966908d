package org

import (
	"strings"
	"testing"
	"time"

	"onboarding/shared/fault"
)

// renderWithin fails the test, instead of hanging it, when Render takes
// longer than a second.
func renderWithin(t *testing.T, src string, data map[string]any) (string, error) {
	t.Helper()
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := Render(src, data)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-time.After(time.Second):
		t.Fatalf("Render(%.40q) still running after a second", src)
		return "", nil
	}
}

func checkOne(kind, subject, body string) fault.Fields {
	var errs fault.Fields
	CheckEmailTemplates(EmailTemplates{kind: {"en": {Subject: subject, Body: body}}}, []string{"en"}, &errs)
	return errs
}

// A template that loops only for data other than the sample used to be
// accepted; every action is now refused, whatever the data.
func TestTemplateWithActionsRefusedAtValidation(t *testing.T) {
	for _, tc := range []struct{ name, body, says string }{
		{"loop behind a condition", `{{if eq .Name "Kari"}}Hei{{else}}{{range 100000000000}}.{{end}}{{end}}`, "{{if}}"},
		{"range", `{{range 3}}x{{end}}`, "{{range}}"},
		{"with", `{{with .Name}}{{.}}{{end}}`, "{{with}}"},
		{"define and template", `{{define "a"}}{{template "a"}}{{end}}{{template "a"}}`, "{{define}}"},
		{"block", `{{block "b" .}}x{{end}}`, "{{block}}"},
		{"function call", `{{printf "%s" .Name}}`, "function"},
		{"pipeline", `{{.Name | printf "%s"}}`, "pipeline"},
		{"comment", `{{/* {{range 3}} */}}Hi`, "comment"},
		{"variable", `{{$x := .Name}}{{$x}}`, "variable"},
		{"unknown field", `Hi {{.Shoe}}`, "{{.Shoe}}"},
		{"the whole data", `Hi {{.}}`, "field name"},
		{"nested field", `Hi {{.Name.First}}`, "field name"},
		{"not closed", `Hi {{.Name`, "}}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := checkOne("invitation", "Hello", tc.body)
			if len(errs) != 1 || errs[0].Field != "emailTemplates.invitation.en.body" || errs[0].Code != string(fault.Invalid) ||
				!strings.Contains(errs[0].Message, tc.says) {
				t.Fatalf("want one invalid body error naming %q, got %+v", tc.says, errs)
			}
		})
	}
	// The subject is checked the same way.
	if errs := checkOne("invitation", `{{range 3}}x{{end}}`, "Hi"); len(errs) != 1 || errs[0].Field != "emailTemplates.invitation.en.subject" {
		t.Fatalf("subject with an action: %+v", errs)
	}
	// A field of another email is unknown to this one.
	if errs := checkOne("expired", "Hi", "{{.InviterName}}"); len(errs) != 1 || !strings.Contains(errs[0].Message, "{{.InviterName}}") {
		t.Fatalf("field of another email: %+v", errs)
	}
}

// The syntax tenants use today keeps working: placeholders, with spaces and
// trim markers as text/template wrote them.
func TestPlaceholdersStillAccepted(t *testing.T) {
	for _, body := range []string{
		"Hei {{.Name}}!\n\nVelkommen til {{.OrgName}} som {{.Role}} (til {{.ExpiresAt}}).",
		"Hei {{ .Name }}, {{.InviterName}} inviterte deg.",
		"Hei {{- .Name -}} !",
		"No placeholders at all }} and a stray closing brace.",
	} {
		if errs := checkOne("invitation", "Velkommen til {{.OrgName}}", body); len(errs) != 0 {
			t.Errorf("%q refused: %+v", body, errs)
		}
	}
	if errs := checkOne("import", "{{.FileName}}", "{{.Created}} {{.Updated}} {{.Removed}} {{.Errors}}"); len(errs) != 0 {
		t.Errorf("import fields refused: %+v", errs)
	}
}

func TestRenderSubstitutesFieldsOnly(t *testing.T) {
	data := map[string]any{"Name": "Kari <b>", "OrgName": "Nordlys", "Count": 3}
	got, err := renderWithin(t, "Hei {{.Name}}, {{ .OrgName }} har {{.Count}}.\n\n{{- .Name -}}  .", data)
	if err != nil {
		t.Fatal(err)
	}
	// Values go in as they are: the HTML layout escapes the whole paragraph.
	if want := "Hei Kari <b>, Nordlys har 3.Kari <b>."; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// A placeholder whose value happens to look like one is not expanded.
	if got, _ := renderWithin(t, "{{.Name}}", map[string]any{"Name": "{{.OrgName}}", "OrgName": "x"}); got != "{{.OrgName}}" {
		t.Fatalf("a value was expanded: %q", got)
	}
}

// A template stored before validation refused actions must not run: Render
// fails it at once, whatever it holds.
func TestRenderRefusesActionsWithoutRunningThem(t *testing.T) {
	data := map[string]any{"Name": "Kari", "OrgName": "Nordlys", "Count": 3}
	for _, src := range []string{
		`{{range 100000000000}}.{{end}}`,
		`{{define "a"}}{{template "a"}}{{end}}{{template "a"}}`,
		`{{printf "%0100000000d" 1}}`,
		`Hi {{.Missing}}`,
	} {
		if out, err := renderWithin(t, src, data); err == nil {
			t.Errorf("%.40q rendered (%d bytes)", src, len(out))
		}
	}
}

func TestRenderedOutputIsCapped(t *testing.T) {
	big := strings.Repeat("x", MaxRenderedBytes)
	if _, err := renderWithin(t, "Hi {{.Name}}", map[string]any{"Name": big}); err == nil || !strings.Contains(err.Error(), "64 KiB") {
		t.Fatalf("an output over the cap: %v", err)
	}
	if _, err := renderWithin(t, "{{.Name}}", map[string]any{"Name": big}); err != nil {
		t.Fatalf("an output of exactly the cap: %v", err)
	}
	// Validation refuses a template that could fill in longer than the cap:
	// 100 placeholders fit in the body's 5000 characters, but names of the
	// longest the service accepts would make it too long.
	errs := checkOne("invitation", "Hi", strings.Repeat("{{.OrgName}} ", 100))
	if len(errs) != 1 || errs[0].Field != "emailTemplates.invitation.en.body" || !strings.Contains(errs[0].Message, "64 KiB") {
		t.Fatalf("want the body refused for its filled-in size, got %+v", errs)
	}
}
