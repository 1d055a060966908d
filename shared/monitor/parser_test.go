package monitor

import (
	"os/exec"
	"strings"
	"testing"

	"onboarding/shared/phone"
)

var _ PhoneParser = phone.Normalize

// PhoneParser is declared here, not in shared/phone, so that the functions
// which never parse a number do not link libphonenumber (its init decodes
// the whole metadata): nothing every function imports may import it.
func TestPhoneMetadataStaysOut(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "onboarding/shared/monitor", "onboarding/shared/invite",
		"onboarding/shared/roster", "onboarding/shared/membership").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "onboarding/shared/phone" || strings.HasPrefix(p, "github.com/nyaruka/") {
			t.Errorf("%s is linked by every function that imports monitor, invite, roster or membership", p)
		}
	}
}
