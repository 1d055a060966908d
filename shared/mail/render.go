// Package mail renders the service's emails from templates and a translation
// catalogue, and sends them through SES v2.
package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"onboarding/shared/locale"
)

//go:embed locales/*.json templates/*
var files embed.FS

// Message is a rendered email.
type Message struct {
	To      string
	Subject string
	HTML    string
	Text    string
	// Attachments go with the message (SES v2 simple content).
	Attachments []Attachment
	// Cc are further recipients of the same message.
	Cc []string
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// Catalogue holds every language's strings and picks the best language for a
// request.
type Catalogue struct {
	*locale.Table // language -> key -> template text
	html          *htmltemplate.Template
	text          *texttemplate.Template
}

// Fallback is the language used when nothing better matches.
const Fallback = "en"

// LoadCatalogue reads the embedded catalogue and templates.
func LoadCatalogue() (*Catalogue, error) {
	t, err := locale.ReadTable(files, "locales")
	if err != nil {
		return nil, err
	}
	c := &Catalogue{Table: t}
	if c.html, err = htmltemplate.ParseFS(files, "templates/layout.html"); err != nil {
		return nil, err
	}
	if c.text, err = texttemplate.ParseFS(files, "templates/layout.txt"); err != nil {
		return nil, err
	}
	return c, nil
}

// T renders one catalogue string in lang with data, falling back to English
// for a key the language lacks.
func (c *Catalogue) T(lang, key string, data any) (string, error) {
	src, ok := c.Strings[lang][key]
	if !ok {
		if src, ok = c.Strings[Fallback][key]; !ok {
			return "", fmt.Errorf("no string %q", key)
		}
	}
	t, err := texttemplate.New(key).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", fmt.Errorf("string %s/%s: %w", lang, key, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("string %s/%s: %w", lang, key, err)
	}
	return b.String(), nil
}

// layout is what the HTML and text layouts show.
type layout struct {
	Lang, Dir, Subject string
	Paragraphs         []string
	Quote              string
	ActionURL          string
	ActionLabel        string
	Fallback           string
	After              []string
	// A second, smaller link after the rest (the added email's leave link).
	SecondaryText, SecondaryLabel, SecondaryURL string
	Footer                                      string
}

func (c *Catalogue) render(to string, l layout) (Message, error) {
	var h, t bytes.Buffer
	if err := c.html.Execute(&h, l); err != nil {
		return Message{}, fmt.Errorf("render html: %w", err)
	}
	if err := c.text.Execute(&t, l); err != nil {
		return Message{}, fmt.Errorf("render text: %w", err)
	}
	return Message{To: to, Subject: l.Subject, HTML: h.String(), Text: t.String()}, nil
}

// translator renders many strings of one language and data, keeping the
// first error, so composing a message reads as a list of strings.
type translator struct {
	c    *Catalogue
	lang string
	data any
	err  error
}

func (c *Catalogue) translator(lang string, data any) *translator {
	return &translator{c: c, lang: lang, data: data}
}

// T renders key, or returns "" once any string has failed.
func (t *translator) T(key string) string {
	if t.err != nil {
		return ""
	}
	s, err := t.c.T(t.lang, key, t.data)
	t.err = err
	return s
}
