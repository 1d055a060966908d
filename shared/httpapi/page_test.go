package httpapi

import (
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
