package account

import (
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	cases := []struct {
		password string
		ok       bool
	}{
		{"correct horse battery", true},
		{"short", false},
		{strings.Repeat("a", 129), false},
		{"kari@example.no", false},
		{"Password1234", false},
		{"qwertyuiop123", false},
		{"æøå-lang-passord", true},
	}
	for _, tc := range cases {
		err := CheckPassword(tc.password, "kari@example.no")
		if (err == nil) != tc.ok {
			t.Errorf("CheckPassword(%q) = %v", tc.password, err)
		}
	}
}

func TestHasherRoundTrip(t *testing.T) {
	h := Hasher{Params: Params{MemoryKiB: 1024, Time: 1, Threads: 1}} // cheap for tests
	enc, err := h.Hash("a long enough secret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("encoding %q", enc)
	}
	if ok, err := h.Verify(enc, "a long enough secret"); !ok || err != nil {
		t.Fatalf("verify: %v %v", ok, err)
	}
	if ok, _ := h.Verify(enc, "another secret"); ok {
		t.Fatal("wrong password verified")
	}
	enc2, _ := h.Hash("a long enough secret")
	if enc == enc2 {
		t.Fatal("salt not random")
	}
	if _, err := h.Verify("$bcrypt$x", "x"); err == nil {
		t.Fatal("foreign hash accepted")
	}
}
