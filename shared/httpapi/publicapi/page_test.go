package publicapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// Both hosted pages get the shared language code where their script asks
// for it, before their CSP hash is taken.
func TestHostedPagesShareTheirLanguageCode(t *testing.T) {
	for name, page := range map[string]string{"accept": acceptPage, "leave": leavePage} {
		if strings.Contains(page, "/*I18N*/") || !strings.Contains(page, "function pick(prefs)") || strings.Contains(page, "/*STRINGS*/{}") {
			t.Errorf("%s page: the shared language code or its strings were not put in", name)
		}
	}
}

func TestAcceptPageStrings(t *testing.T) {
	var all map[string]map[string]string
	if err := json.Unmarshal(acceptStrings, &all); err != nil {
		t.Fatal(err)
	}
	langs := []string{"en", "nb", "sv", "da", "fi", "fr", "de", "es", "nl", "pl", "id", "ar"}
	for _, l := range langs {
		if len(all[l]) != len(all["en"]) {
			t.Errorf("%s has %d page strings, English %d", l, len(all[l]), len(all["en"]))
		}
		for k := range all["en"] {
			if strings.TrimSpace(all[l][k]) == "" {
				t.Errorf("%s: page string %s missing", l, k)
			}
		}
	}
	if strings.Contains(acceptPage, "/*STRINGS*/") || !strings.Contains(acceptPage, `"Godta invitasjonen"`) {
		t.Fatal("the page's strings were not put in")
	}
	if !strings.Contains(acceptPageCSP, "script-src 'sha256-") {
		t.Fatal("no script hash in the CSP")
	}
}

// Someone who already has an account accepts by signing in: the page labels
// the password field so, in every language, and asks for no new password.
func TestAcceptPageSignsInExistingAccounts(t *testing.T) {
	var all map[string]map[string]string
	if err := json.Unmarshal(acceptStrings, &all); err != nil {
		t.Fatal(err)
	}
	keys := []string{"signInPassword", "signInHint", "signInSubmit", "joined"}
	for _, l := range []string{"en", "nb", "sv", "da", "fi", "fr", "de", "es", "nl", "pl", "id", "ar"} {
		for _, k := range keys {
			if strings.TrimSpace(all[l][k]) == "" || (l != "en" && all[l][k] == all["en"][k]) {
				t.Errorf("%s: %s missing or left in English", l, k)
			}
		}
	}
	for _, k := range keys {
		if !strings.Contains(acceptPage, `t("`+k+`"`) {
			t.Errorf("the page does not use %s", k)
		}
	}
}

// The leave page exists in every language, with every string, and its
// strict policy (our own script and style, by hash, nothing else).
func TestLeavePageStrings(t *testing.T) {
	var all map[string]map[string]string
	if err := json.Unmarshal(leaveStrings, &all); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"en", "nb", "sv", "da", "fi", "fr", "de", "es", "nl", "pl", "id", "ar"} {
		if len(all[l]) != len(all["en"]) {
			t.Errorf("%s has %d leave page strings, English %d", l, len(all[l]), len(all["en"]))
		}
		for k := range all["en"] {
			if strings.TrimSpace(all[l][k]) == "" || (l != "en" && all[l][k] == all["en"][k]) {
				t.Errorf("%s: leave page string %s missing or left in English", l, k)
			}
		}
	}
	for k := range all["en"] {
		if !strings.Contains(leavePage, `t("`+k+`"`) && !strings.Contains(leavePage, `data-i18n="`+k+`"`) &&
			!strings.Contains(leavePage, `"`+k+`"`) {
			t.Errorf("the leave page does not use %s", k)
		}
	}
	if strings.Contains(leavePage, "/*STRINGS*/") || !strings.Contains(leavePage, `"Meld deg ut"`) {
		t.Fatal("the leave page's strings were not put in")
	}
	if !strings.Contains(leavePageCSP, "script-src 'sha256-") || strings.Contains(leavePageCSP, "unsafe") || leavePageCSP == acceptPageCSP {
		t.Fatalf("leave page CSP %q", leavePageCSP)
	}
}

// The reset page exists in every language, with every string, shares the
// pages' language code, and has its own strict policy.
func TestResetPageStrings(t *testing.T) {
	var all map[string]map[string]string
	if err := json.Unmarshal(resetStrings, &all); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"en", "nb", "sv", "da", "fi", "fr", "de", "es", "nl", "pl", "id", "ar"} {
		if len(all[l]) != len(all["en"]) {
			t.Errorf("%s has %d reset page strings, English %d", l, len(all[l]), len(all["en"]))
		}
		for k := range all["en"] {
			if strings.TrimSpace(all[l][k]) == "" || (l != "en" && all[l][k] == all["en"][k]) {
				t.Errorf("%s: reset page string %s missing or left in English", l, k)
			}
		}
	}
	for k := range all["en"] {
		if !strings.Contains(resetPage, `t("`+k+`"`) && !strings.Contains(resetPage, `data-i18n="`+k+`"`) &&
			!strings.Contains(resetPage, `"`+k+`"`) {
			t.Errorf("the reset page does not use %s", k)
		}
	}
	if strings.Contains(resetPage, "/*STRINGS*/") || strings.Contains(resetPage, "/*I18N*/") || !strings.Contains(resetPage, `"Velg nytt passord"`) ||
		!strings.Contains(resetPage, `lang === "ar" ? "rtl"`) {
		t.Fatal("the reset page's strings or language code were not put in")
	}
	if !strings.Contains(resetPageCSP, "script-src 'sha256-") || strings.Contains(resetPageCSP, "unsafe") || resetPageCSP == leavePageCSP ||
		!strings.Contains(resetPageCSP, "default-src 'none'") || !strings.Contains(resetPageCSP, "connect-src 'self'") {
		t.Fatalf("reset page CSP %q", resetPageCSP)
	}
	if strings.Contains(resetPage, "http://") || strings.Contains(resetPage, "https://") {
		t.Fatal("the reset page loads something from elsewhere")
	}
}

// The email-change page exists in every language, with every string, under
// its own strict policy.
func TestEmailChangePageStrings(t *testing.T) {
	var all map[string]map[string]string
	if err := json.Unmarshal(emailChangeStrings, &all); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"en", "nb", "sv", "da", "fi", "fr", "de", "es", "nl", "pl", "id", "ar"} {
		if len(all[l]) != len(all["en"]) {
			t.Errorf("%s has %d email-change page strings, English %d", l, len(all[l]), len(all["en"]))
		}
		for k := range all["en"] {
			if strings.TrimSpace(all[l][k]) == "" || (l != "en" && all[l][k] == all["en"][k]) {
				t.Errorf("%s: email-change page string %s missing or left in English", l, k)
			}
			if !strings.Contains(emailChangePage, `t("`+k+`"`) && !strings.Contains(emailChangePage, `data-i18n="`+k+`"`) &&
				!strings.Contains(emailChangePage, `"`+k+`"`) {
				t.Errorf("the email-change page does not use %s", k)
			}
		}
	}
	if strings.Contains(emailChangePage, "/*STRINGS*/") || strings.Contains(emailChangePage, "/*I18N*/") ||
		!strings.Contains(emailChangePage, `"Bekreft den nye adressen"`) || !strings.Contains(emailChangePage, `"/auth/email-change/confirm"`) {
		t.Fatal("the email-change page's strings or call were not put in")
	}
	if !strings.Contains(emailChangePageCSP, "script-src 'sha256-") || strings.Contains(emailChangePageCSP, "unsafe") ||
		emailChangePageCSP == leavePageCSP || !strings.Contains(emailChangePageCSP, "default-src 'none'") {
		t.Fatalf("email-change page CSP %q", emailChangePageCSP)
	}
}
