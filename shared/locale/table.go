package locale

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

// Table is strings by language (language -> key -> text) and the matcher
// that picks a reader's language among them. The email catalogue, the
// report messages and the hosted pages' problem details are each one.
type Table struct {
	Strings map[string]map[string]string
	langs   []string // the keys of Strings, in the matcher's order
	matcher language.Matcher
}

// NewTable makes a table of byLanguage. The fallback goes first: the
// matcher returns it when nothing fits.
func NewTable(byLanguage map[string]map[string]string) *Table {
	t := &Table{Strings: byLanguage}
	langs := make([]string, 0, len(byLanguage))
	for l := range byLanguage {
		langs = append(langs, l)
	}
	sort.Slice(langs, func(i, j int) bool { return langs[i] == Fallback || (langs[j] != Fallback && langs[i] < langs[j]) })
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = language.MustParse(l)
	}
	t.langs, t.matcher = langs, language.NewMatcher(tags)
	return t
}

// ReadTable reads a table from dir of fsys: one JSON object of strings a
// language, named by it (nb.json).
func ReadTable(fsys fs.FS, dir string) (*Table, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	byLanguage := map[string]map[string]string{}
	for _, e := range entries {
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s/%s: %w", dir, e.Name(), err)
		}
		byLanguage[strings.TrimSuffix(e.Name(), ".json")] = m
	}
	return NewTable(byLanguage), nil
}

// Languages lists the table's languages, sorted.
func (t *Table) Languages() []string {
	out := make([]string, 0, len(t.Strings))
	for l := range t.Strings {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Match returns the table's language for the first preference that has one
// (a reader's language, then the organisation's default), else the
// fallback.
func (t *Table) Match(prefs ...string) string {
	for _, p := range prefs {
		if p == "" {
			continue
		}
		tag, err := language.Parse(p)
		if err != nil {
			continue
		}
		if lang, ok := t.MatchTags(tag); ok {
			return lang
		}
	}
	return Fallback
}

// MatchTags returns the table's language that best serves tags (an
// Accept-Language header's, weighed), or false when none does.
func (t *Table) MatchTags(tags ...language.Tag) (string, bool) {
	_, i, conf := t.matcher.Match(tags...)
	if conf == language.No {
		return "", false
	}
	return t.langs[i], true
}
