// Package locale writes what a person reads outside the HTTP answers in
// their language: dates in the local short form (31.12.2026 in Norwegian,
// 2026-12-31 in Swedish, 12/31/2026 in the United States) and the
// parameterised messages of import reports, from a catalogue of the 12
// languages the emails have.
package locale

import (
	"strings"
	"time"

	"golang.org/x/text/language"
)

// dateForm is a language's short date and time, after CLDR's short (or,
// where the short form cuts the year to two digits, medium numeric) forms.
type dateForm struct {
	date, clock  string
	arabicDigits bool // CLDR's ar writes Arabic-Indic digits
}

// forms are keyed by the tag the matcher returns. en is CLDR's en-001 (day
// first); only a US region gives month first.
var forms = map[string]dateForm{
	"en":    {date: "02/01/2006", clock: "15:04"},
	"en-US": {date: "01/02/2006", clock: "3:04 PM"},
	"nb":    {date: "02.01.2006", clock: "15:04"},
	"da":    {date: "02.01.2006", clock: "15.04"},
	"de":    {date: "02.01.2006", clock: "15:04"},
	"fi":    {date: "2.1.2006", clock: "15.04"},
	"pl":    {date: "02.01.2006", clock: "15:04"},
	"sv":    {date: "2006-01-02", clock: "15:04"},
	"fr":    {date: "02/01/2006", clock: "15:04"},
	"es":    {date: "02/01/2006", clock: "15:04"},
	"id":    {date: "02/01/2006", clock: "15.04"},
	"nl":    {date: "02-01-2006", clock: "15:04"},
	// d‏/M‏/y with right-to-left marks, as CLDR has it.
	"ar": {date: "2\u200f/1\u200f/2006", clock: "15:04", arabicDigits: true},
}

var formTags = func() []language.Tag {
	// English first: the matcher falls back to it.
	tags := []language.Tag{language.MustParse("en")}
	for k := range forms {
		if k != "en" {
			tags = append(tags, language.MustParse(k))
		}
	}
	return tags
}()

var formMatcher = language.NewMatcher(formTags)

// form finds the date form for a BCP 47 tag ("nb", "nb-NO", "en-US",
// "no"); English (day first) when nothing matches.
func form(lang string) dateForm {
	tag, err := language.Parse(lang)
	if err != nil {
		return forms["en"]
	}
	_, i, conf := formMatcher.Match(tag)
	if conf == language.No {
		return forms["en"]
	}
	key := formTags[i].String()
	if key == "en" || key == "en-US" {
		// The matcher takes plain en for en-US (its likely region): only a
		// region the reader names gives month first.
		key = "en"
		if r, conf := tag.Region(); conf == language.Exact && r.String() == "US" {
			key = "en-US"
		}
	}
	return forms[key]
}

// Date writes t's day in lang's short form.
func Date(t time.Time, lang string) string {
	f := form(lang)
	return digits(t.Format(f.date), f)
}

// DateTime writes t (in UTC, named so: the service keeps no time zone per
// reader) as lang's short date and time.
func DateTime(t time.Time, lang string) string {
	f := form(lang)
	return digits(t.UTC().Format(f.date)+" "+t.UTC().Format(f.clock), f) + " UTC"
}

// ISODate writes a day for a message argument: Text formats it for the
// reader (an argument whose name ends in Date).
func ISODate(t time.Time) string { return t.Format(time.DateOnly) }

func digits(s string, f dateForm) string {
	if !f.arabicDigits {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '٠' + (r - '0')
		}
		return r
	}, s)
}
