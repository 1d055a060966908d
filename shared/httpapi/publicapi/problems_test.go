package publicapi

import (
	"context"
	"strings"
	"testing"

	"onboarding/shared/account"
	"onboarding/shared/clean"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/selfservice"
)

var pageLanguages = []string{"en", "nb", "sv", "da", "fi", "fr", "de", "es", "nl", "pl", "id", "ar"}

// Every detail of the catalogue is in every language of the pages,
// translated (not left in English), with its number kept.
func TestEveryProblemDetailInEveryLanguage(t *testing.T) {
	if len(details.Strings) != len(pageLanguages) {
		t.Fatalf("%d languages, want %d", len(details.Strings), len(pageLanguages))
	}
	for _, l := range pageLanguages {
		strs := details.Strings[l]
		if len(strs) != len(details.Strings["en"]) {
			t.Errorf("%s has %d details, English %d", l, len(strs), len(details.Strings["en"]))
		}
		for en := range details.Strings["en"] {
			s := strs[en]
			switch {
			case strings.TrimSpace(s) == "":
				t.Errorf("%s: %q missing", l, en)
			case l != "en" && s == en:
				t.Errorf("%s: %q left in English", l, en)
			case strings.Contains(en, "{n}") != strings.Contains(s, "{n}"):
				t.Errorf("%s: %q loses its number", l, en)
			}
		}
	}
}

// The details a person meets on the hosted pages, as the services write
// them, are all in the catalogue: an expired, used or unknown link, the
// password policy, terms not accepted, throttling, field messages.
func TestHostedPagesDetailsAreTranslated(t *testing.T) {
	ctx := context.Background()
	var errs []error
	for _, pw := range []string{"short", strings.Repeat("long enough ", 20), "kari@example.no", "bad \xff utf-8 text"} {
		errs = append(errs, account.CheckPassword(pw, "kari@example.no"))
	}
	for _, name := range []string{"", strings.Repeat("x", 101), "Kari\x07"} {
		_, err := clean.Name(name, 100, true)
		errs = append(errs, err)
	}
	_, err := (&invite.Service{}).Preview(ctx, "x")
	errs = append(errs, err)
	_, err = (&invite.Service{}).Leave(ctx, "x")
	errs = append(errs, err)
	errs = append(errs, (&account.PasswordReset{}).Confirm(ctx, "x", "", ""))
	errs = append(errs, (&selfservice.Service{}).ConfirmEmailChange(ctx, "x"))
	for _, err := range errs {
		e, ok := fault.As(err)
		if !ok {
			t.Fatalf("not a fault: %v", err)
		}
		for _, l := range pageLanguages {
			if got := details.localize(e, l); got.Language != l {
				t.Errorf("%s: %q (fields %v) is not translated", l, e.Message, e.Fields)
			}
		}
	}
}

func TestDetailLanguageFollowsAcceptLanguage(t *testing.T) {
	for header, want := range map[string]string{
		"":                             "en",
		"de-CH, en;q=0.5":              "de",
		"fr;q=0.2, nb;q=0.9":           "nb",
		"no":                           "nb",
		"pt-BR":                        "en",
		"*":                            "en",
		"ar-EG":                        "ar",
		"x;;;=garbage":                 "en",
		"en-GB;q=0.4, sv-FI;q=0.8":     "sv",
		"zh-Hans, id-ID;q=0.3, de;q=0": "id",
	} {
		if got := details.language(header); got != want {
			t.Errorf("%q: %s, want %s", header, got, want)
		}
	}
	// A detail the catalogue lacks leaves the whole answer in English.
	e := &fault.Error{Code: fault.Invalid, Message: "the request has invalid fields",
		Fields: []fault.FieldError{{Field: "x", Code: "y", Message: "something new"}}}
	if got := details.localize(e, "de"); got.Language != "en" || got.Message != e.Message {
		t.Fatalf("partly translated: %+v", got)
	}
	if got := details.localize(&fault.Error{Code: fault.Invalid, Message: "use at least 12 characters"}, "de"); got.Message != "verwenden Sie mindestens 12 Zeichen" {
		t.Fatalf("a number: %q", got.Message)
	}
}
