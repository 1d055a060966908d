package phone

import "testing"

func TestNormalize(t *testing.T) {
	cases := []struct{ raw, region, want string }{
		{"915 12 345", "NO", "+4791512345"},
		{"+47 915 12 345", "SE", "+4791512345"},
		{"0047 91512345", "SE", "+4791512345"},
		{"070-123 45 67", "SE", "+46701234567"},
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"0812-3456-7890", "ID", "+6281234567890"},
	}
	for _, tc := range cases {
		got, err := Normalize(tc.raw, tc.region)
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%q, %s) = %q, %v; want %q", tc.raw, tc.region, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "12", "not a number", "+47 123"} {
		if got, err := Normalize(bad, "NO"); err == nil {
			t.Errorf("Normalize(%q) = %q, want error", bad, got)
		}
	}
}
