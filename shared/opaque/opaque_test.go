package opaque

import "testing"

func TestTokens(t *testing.T) {
	a, ha, err := New()
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := New()
	if len(a) != 43 || a == b || ha != Hash(a) || len(ha) != 64 || !Valid(a) {
		t.Fatalf("token %q hash %q", a, ha)
	}
	for _, junk := range []string{"", "short", a + "x", a[:42] + "!"} {
		if Valid(junk) {
			t.Errorf("%q taken for a token", junk)
		}
	}
}
