package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodeOfWrapped(t *testing.T) {
	err := fmt.Errorf("accept invitation: %w", New(Gone, "expired"))
	if CodeOf(err) != Gone {
		t.Fatal(CodeOf(err))
	}
	if CodeOf(errors.New("boom")) != Internal {
		t.Fatal("plain errors are internal")
	}
}

func TestFieldsError(t *testing.T) {
	var f Fields
	if f.Err() != nil {
		t.Fatal("empty fields are no error")
	}
	f.Add("email", "invalid", "not a valid email address")
	f.Add("role", "invalid", "required")
	want := "invalid: the request has invalid fields: email: not a valid email address; role: required"
	if got := f.Err().Error(); got != want {
		t.Fatalf("%q", got)
	}
}

func TestWithCopies(t *testing.T) {
	a := New(Conflict, "exists")
	b := a.With("invitationId", "i1")
	if a.Extra != nil || b.Extra["invitationId"] != "i1" {
		t.Fatal("With must not change the original")
	}
}
