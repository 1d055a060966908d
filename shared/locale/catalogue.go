package locale

import (
	"embed"
	"fmt"
	"strings"
	"sync"
	"text/template"
	"time"
)

//go:embed messages/*.json
var files embed.FS

// Fallback is the language used when nothing better matches.
const Fallback = "en"

// Catalogue holds the report messages of every language.
type Catalogue struct {
	*Table          // language -> key -> template text
	parsed sync.Map // lang/key -> *template.Template
}

var (
	loadOnce sync.Once
	loaded   *Catalogue
	loadErr  error
)

// Messages returns the embedded catalogue, read once (it is the binary's,
// and never changes).
func Messages() (*Catalogue, error) {
	loadOnce.Do(func() { loaded, loadErr = load() })
	return loaded, loadErr
}

func load() (*Catalogue, error) {
	t, err := ReadTable(files, "messages")
	if err != nil {
		return nil, err
	}
	return &Catalogue{Table: t}, nil
}

// Keys lists a language's keys.
func (c *Catalogue) Keys(lang string) map[string]string { return c.Strings[lang] }

// Printer writes messages for one reader: its language picks the strings,
// its tag the date form (so en-US keeps month-first dates).
type Printer struct {
	c         *Catalogue
	Lang, Tag string
}

// For returns the printer for the first preference the catalogue has (see
// Match); the date form follows that same preference, region included.
func (c *Catalogue) For(prefs ...string) Printer {
	lang := c.Match(prefs...)
	tag := lang
	for _, p := range prefs {
		if p != "" && c.Match(p) == lang {
			tag = p
			break
		}
	}
	return Printer{c: c, Lang: lang, Tag: tag}
}

// Text renders key with args in the printer's language (English for a key
// the language lacks; the key itself for one no language has). An argument
// whose name ends in "Date" and holds a day (2026-12-31) is written in the
// reader's date form.
func (p Printer) Text(key string, args map[string]string) string {
	s, err := p.c.render(p.Lang, key, p.localArgs(args))
	if err != nil {
		return key
	}
	return s
}

// Date writes a day in the printer's date form.
func (p Printer) Date(t time.Time) string { return Date(t, p.Tag) }

// DateTime writes an instant in the printer's date and time form.
func (p Printer) DateTime(t time.Time) string { return DateTime(t, p.Tag) }

func (p Printer) localArgs(args map[string]string) map[string]string {
	out := make(map[string]string, len(args))
	for k, v := range args {
		if strings.HasSuffix(k, "Date") {
			if d, err := time.Parse(time.DateOnly, v); err == nil {
				v = p.Date(d)
			}
		}
		out[k] = v
	}
	return out
}

// Render renders key in lang with args, or says why it cannot (tests use it
// to prove every key renders in every language).
func (c *Catalogue) Render(lang, key string, args map[string]string) (string, error) {
	return c.render(lang, key, args)
}

func (c *Catalogue) render(lang, key string, args map[string]string) (string, error) {
	src, ok := c.Strings[lang][key]
	if !ok {
		lang = Fallback
		if src, ok = c.Strings[Fallback][key]; !ok {
			return "", fmt.Errorf("no message %q", key)
		}
	}
	id := lang + "/" + key
	t, ok := c.parsed.Load(id)
	if !ok {
		parsed, err := template.New(key).Option("missingkey=error").Parse(src)
		if err != nil {
			return "", fmt.Errorf("message %s: %w", id, err)
		}
		t, _ = c.parsed.LoadOrStore(id, parsed)
	}
	var b strings.Builder
	if err := t.(*template.Template).Execute(&b, args); err != nil {
		return "", fmt.Errorf("message %s: %w", id, err)
	}
	return b.String(), nil
}
