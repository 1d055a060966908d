package org

import (
	"context"
	"testing"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
)

// settingsStore holds one organisation whose only member is an
// organisation-wide admin; calls beyond these are not expected.
type settingsStore struct {
	Store
	org   Organisation
	saved *Settings
}

func (s *settingsStore) Actor(context.Context, string, string) (Organisation, *Member, error) {
	return s.org, &Member{UserID: "ada", Role: access.Admin}, nil
}

func (s *settingsStore) UpdateSettings(_ context.Context, _ string, st Settings, _ audit.Entry) error {
	s.saved = &st
	return nil
}

func TestExistingAccountsSetting(t *testing.T) {
	// Settings stored before the setting existed read as "add".
	old := NewSettings(30)
	old.ExistingAccounts = ""
	store := &settingsStore{org: Organisation{ID: "o1", Settings: old, Roles: access.DefaultRoles()}}
	svc := &Service{Store: store, Now: func() time.Time { return time.Unix(0, 0) }}
	ctx := context.Background()
	st, err := svc.Settings(ctx, "ada", "o1")
	if err != nil || st.ExistingAccounts != ExistingAccountsAdd || !st.AddsExistingAccounts() {
		t.Fatalf("default: %q %v", st.ExistingAccounts, err)
	}
	if NewSettings(30).ExistingAccounts != ExistingAccountsAdd {
		t.Fatal("a new organisation adds existing accounts, as the Video Call product does")
	}

	bad := "sometimes"
	_, err = svc.UpdateSettings(ctx, "ada", "o1", SettingsChange{ExistingAccounts: &bad})
	if e, ok := fault.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Field != "existingAccounts" || store.saved != nil {
		t.Fatalf("an unknown value: %v (saved %v)", err, store.saved)
	}
	invite := " invite "
	st, err = svc.UpdateSettings(ctx, "ada", "o1", SettingsChange{ExistingAccounts: &invite})
	if err != nil || st.ExistingAccounts != ExistingAccountsInvite || st.AddsExistingAccounts() ||
		store.saved == nil || store.saved.ExistingAccounts != ExistingAccountsInvite {
		t.Fatalf("invite: %+v %v", st, err)
	}
}
