// Package phone normalizes phone numbers to E.164. It links the full
// libphonenumber metadata (about 12 MB), so only functions that parse phone
// numbers import it.
package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"

	"onboarding/shared/fault"
)

// Normalize returns raw as E.164 ("+4791512345"), reading a national number
// ("915 12 345") in region. It refuses numbers that cannot exist.
func Normalize(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 40 {
		return "", fault.New(fault.Invalid, "not a valid phone number")
	}
	if strings.HasPrefix(raw, "00") {
		raw = "+" + raw[2:]
	}
	n, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", fault.New(fault.Invalid, "not a valid phone number")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
