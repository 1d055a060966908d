package invite

import (
	"errors"
	"testing"
	"time"

	"onboarding/shared/org"
)

func at(d time.Duration) *time.Time { t := now.Add(d); return &t }

func TestNextDue(t *testing.T) {
	base := Invitation{Status: Pending, ExpiresAt: now.Add(30 * 24 * time.Hour)}
	cases := []struct {
		name string
		inv  func() Invitation
		want *time.Time // nil: nothing due
	}{
		{"pending without reminder: its expiry", func() Invitation { return base }, at(30 * 24 * time.Hour)},
		{"reminder first", func() Invitation { i := base; i.RemindAt = at(27 * 24 * time.Hour); return i }, at(27 * 24 * time.Hour)},
		{"reminded: expiry", func() Invitation {
			i := base
			i.RemindAt, i.RemindedAt = at(27*24*time.Hour), at(27*24*time.Hour)
			return i
		}, at(30 * 24 * time.Hour)},
		{"failed email: its retry", func() Invitation { i := base; i.NextDeliveryAt = at(5 * time.Minute); return i }, at(5 * time.Minute)},
		{"accepted: nothing", func() Invitation { i := base; i.Status = Accepted; return i }, nil},
		{"accepted with a failed notice: its retry", func() Invitation {
			i := base
			i.Status, i.NextDeliveryAt = Accepted, at(time.Hour)
			return i
		}, at(time.Hour)},
		{"revoked: nothing", func() Invitation { i := base; i.Status = Revoked; i.RemindAt = at(time.Hour); return i }, nil},
		{"expired: nothing", func() Invitation { i := base; i.Status = Expired; return i }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.inv().NextDue()
			if ok != (tc.want != nil) || (ok && !got.Equal(*tc.want)) {
				t.Fatalf("NextDue = %v, %v; want %v", got, ok, tc.want)
			}
		})
	}
}

func TestRemindAt(t *testing.T) {
	o := org.Organisation{Settings: org.Settings{ReminderDaysBeforeExpiry: 3}}
	exp := now.Add(30 * 24 * time.Hour)
	if r := remindAt(o, exp, now); r == nil || !r.Equal(exp.Add(-3*24*time.Hour)) {
		t.Fatalf("remindAt %v", r)
	}
	if r := remindAt(o, now.Add(2*24*time.Hour), now); r != nil {
		t.Fatalf("a reminder in the past: %v", r)
	}
	o.Settings.ReminderDaysBeforeExpiry = 0
	if r := remindAt(o, exp, now); r != nil {
		t.Fatalf("reminders off, yet %v", r)
	}
}

func TestRetriesBackOffThenGiveUp(t *testing.T) {
	inv := Invitation{Status: Pending}
	var waits []time.Duration
	for attempt := 1; attempt <= MaxDeliveryAttempts; attempt++ {
		inv.DeliveryAttempts = attempt
		inv.recordSend(MailInvitation, errors.New("down"), now)
		if inv.DeliveryStatus != DeliveryFailed || inv.RetryMail != MailInvitation {
			t.Fatalf("attempt %d: %+v", attempt, inv)
		}
		if inv.NextDeliveryAt == nil {
			waits = append(waits, 0)
			continue
		}
		waits = append(waits, inv.NextDeliveryAt.Sub(now))
	}
	want := []time.Duration{5 * time.Minute, 15 * time.Minute, 45 * time.Minute, 135 * time.Minute, 0}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
	inv.recordSend(MailInvitation, nil, now)
	if inv.DeliveryStatus != DeliverySent || inv.DeliveryAttempts != 0 || inv.NextDeliveryAt != nil || inv.RetryMail != "" {
		t.Fatalf("after success: %+v", inv)
	}
}

func TestOpens(t *testing.T) {
	inv := Invitation{TokenHash: "a", ReminderTokenHash: "b"}
	if !inv.Opens("a") || !inv.Opens("b") || inv.Opens("c") || inv.Opens("") || (Invitation{}).Opens("") {
		t.Fatal("Opens")
	}
}
