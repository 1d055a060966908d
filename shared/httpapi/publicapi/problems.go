package publicapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"regexp"
	"strings"

	"golang.org/x/text/language"

	"onboarding/shared/fault"
	"onboarding/shared/httpapi"
	"onboarding/shared/locale"
)

// problemStrings are the problem details a person can meet on the hosted
// pages, in every language of the pages: keyed by the English detail, a
// number in it written {n}.
//
//go:embed problem-strings.json
var problemStrings []byte

var details = newDetailCatalogue(problemStrings)

// detailCatalogue puts problem details in the caller's language.
type detailCatalogue struct{ *locale.Table }

func newDetailCatalogue(b []byte) *detailCatalogue {
	var byLanguage map[string]map[string]string
	if err := json.Unmarshal(b, &byLanguage); err != nil {
		panic("problem strings: " + err.Error()) // embedded at build time; a test reads them
	}
	return &detailCatalogue{locale.NewTable(byLanguage)}
}

// language is the catalogue's language that best serves an Accept-Language
// header (q-values weigh; "no" finds Norwegian Bokmål); English
// when none does or the header cannot be read.
func (c *detailCatalogue) language(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return locale.Fallback
	}
	if lang, ok := c.MatchTags(tags...); ok {
		return lang
	}
	return locale.Fallback
}

var number = regexp.MustCompile(`[0-9]+`)

// translate returns msg in lang, or false when the catalogue lacks it.
func (c *detailCatalogue) translate(lang, msg string) (string, bool) {
	strs := c.Strings[lang]
	if s, ok := strs[msg]; ok {
		return s, true
	}
	if n := number.FindAllString(msg, -1); len(n) == 1 {
		if s, ok := strs[number.ReplaceAllString(msg, "{n}")]; ok {
			return strings.Replace(s, "{n}", n[0], 1), true
		}
	}
	return "", false
}

// localize returns e with its detail and field messages in lang, or in
// English (as written) when any of them has no translation: an answer is
// in one language, which Content-Language names. Codes, types, titles and
// field names stay as they are: clients switch on them.
func (c *detailCatalogue) localize(e *fault.Error, lang string) *fault.Error {
	out := *e
	out.Language = "en"
	if lang == "en" {
		return &out
	}
	msg, ok := c.translate(lang, e.Message)
	if !ok {
		return &out
	}
	fields := make([]fault.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		fields[i] = f
		if fields[i].Message, ok = c.translate(lang, f.Message); !ok {
			return &out
		}
	}
	out.Message, out.Fields, out.Language = msg, fields, lang
	return &out
}

// localized answers a route's refusals in the caller's language
// (Accept-Language): the routes the hosted pages call, whose details the
// pages show as they come.
func localized(h httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		res, err := h(ctx, r)
		e, ok := fault.As(err)
		if !ok || e.Code == fault.Internal || e.Code == fault.Unavailable {
			// Server-side failures keep their error (and its context) for the logs.
			return res, err
		}
		return res, details.localize(e, details.language(r.Header("accept-language")))
	}
}
