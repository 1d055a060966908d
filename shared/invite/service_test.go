package invite

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/opaque"
	"onboarding/shared/org"
)

// fakeStore is a Store of function fields, set only where a test needs them.
type fakeStore struct {
	InviteContextFn      func(ctx context.Context, orgID, actorID, email string) (InviteContext, error)
	CreateOrganisationFn func(ctx context.Context, o org.Organisation) error
	CreateInvitationFn   func(ctx context.Context, inv Invitation) error // the audit entry is checked in the store tests
	RecordDeliveryFn     func(ctx context.Context, inv Invitation) error
	InvitationByTokenFn  func(ctx context.Context, hash string) (Invitation, error)
	AccountByEmailFn     func(ctx context.Context, email string) (*account.Account, error)
	AcceptFn             func(ctx context.Context, a Acceptance) error
	ActorFn              func(ctx context.Context, orgID, userID string) (org.Organisation, *org.Member, error)
	InvitationFn         func(ctx context.Context, orgID, id string) (Invitation, error)
	ListInvitationsFn    func(ctx context.Context, orgID string, status Status, limit int, cursor string, now time.Time) ([]Invitation, string, error)
	SearchInvitationsFn  func(ctx context.Context, orgID, q string, status Status, limit int, cursor string, now time.Time) ([]Invitation, string, error)
	ResendFn             func(ctx context.Context, old, renewed Invitation) error
	RevokeFn             func(ctx context.Context, inv Invitation, at, expireAt time.Time) error
	DeleteInvitationFn   func(ctx context.Context, inv Invitation) error
	AddMemberFn          func(ctx context.Context, inv Invitation, m org.Member) error
	AccountFn            func(ctx context.Context, userID string) (*account.Account, error)
	LeaveTokenFn         func(ctx context.Context, hash string) (LeaveToken, error)
	LeaveFn              func(ctx context.Context, hash string, t LeaveToken, m org.Member, at time.Time, e audit.Entry) error
}

func (f *fakeStore) InviteContext(ctx context.Context, orgID, actorID, email string) (InviteContext, error) {
	return f.InviteContextFn(ctx, orgID, actorID, email)
}
func (f *fakeStore) CreateOrganisation(ctx context.Context, o org.Organisation) error {
	return f.CreateOrganisationFn(ctx, o)
}
func (f *fakeStore) CreateInvitation(ctx context.Context, inv Invitation, _ audit.Entry) error {
	return f.CreateInvitationFn(ctx, inv)
}
func (f *fakeStore) CreateInvitations(ctx context.Context, invs []Invitation, _ []audit.Entry) []error {
	errs := make([]error, len(invs))
	for i, inv := range invs {
		errs[i] = f.CreateInvitationFn(ctx, inv)
	}
	return errs
}
func (f *fakeStore) RecordDelivery(ctx context.Context, inv Invitation) error {
	if f.RecordDeliveryFn == nil {
		return nil
	}
	return f.RecordDeliveryFn(ctx, inv)
}
func (f *fakeStore) InvitationByToken(ctx context.Context, hash string) (Invitation, error) {
	return f.InvitationByTokenFn(ctx, hash)
}
func (f *fakeStore) AccountByEmail(ctx context.Context, email string) (*account.Account, error) {
	if f.AccountByEmailFn == nil {
		return nil, nil
	}
	return f.AccountByEmailFn(ctx, email)
}
func (f *fakeStore) Accept(ctx context.Context, a Acceptance) error { return f.AcceptFn(ctx, a) }
func (f *fakeStore) Actor(ctx context.Context, orgID, userID string) (org.Organisation, *org.Member, error) {
	if f.ActorFn == nil {
		// An organisation without terms of its own.
		return org.Organisation{ID: orgID}, nil, nil
	}
	return f.ActorFn(ctx, orgID, userID)
}
func (f *fakeStore) Invitation(ctx context.Context, orgID, id string) (Invitation, error) {
	return f.InvitationFn(ctx, orgID, id)
}
func (f *fakeStore) ListInvitations(ctx context.Context, orgID string, status Status, limit int, cursor string, now time.Time) ([]Invitation, string, error) {
	return f.ListInvitationsFn(ctx, orgID, status, limit, cursor, now)
}
func (f *fakeStore) SearchInvitations(ctx context.Context, orgID, q string, status Status, limit int, cursor string, now time.Time) ([]Invitation, string, error) {
	return f.SearchInvitationsFn(ctx, orgID, q, status, limit, cursor, now)
}
func (f *fakeStore) Resend(ctx context.Context, old, renewed Invitation, _ audit.Entry) error {
	return f.ResendFn(ctx, old, renewed)
}
func (f *fakeStore) Revoke(ctx context.Context, inv Invitation, at, expireAt time.Time, _ audit.Entry) error {
	return f.RevokeFn(ctx, inv, at, expireAt)
}
func (f *fakeStore) DeleteInvitation(ctx context.Context, inv Invitation, _ audit.Entry) error {
	return f.DeleteInvitationFn(ctx, inv)
}
func (f *fakeStore) AddMember(ctx context.Context, inv Invitation, m org.Member, _ audit.Entry) error {
	return f.AddMemberFn(ctx, inv, m)
}
func (f *fakeStore) Account(ctx context.Context, userID string) (*account.Account, error) {
	return f.AccountFn(ctx, userID)
}

func (f *fakeStore) LeaveToken(ctx context.Context, hash string) (LeaveToken, error) {
	return f.LeaveTokenFn(ctx, hash)
}
func (f *fakeStore) Leave(ctx context.Context, hash string, t LeaveToken, m org.Member, at time.Time, e audit.Entry) error {
	return f.LeaveFn(ctx, hash, t, m, at, e)
}

type mailerFunc func(ctx context.Context, inv Invitation, link string) error

func (m mailerFunc) SendInvitation(ctx context.Context, inv Invitation, link string) error {
	return m(ctx, inv, link)
}
func (m mailerFunc) SendAdded(ctx context.Context, inv Invitation, _, _, leaveLink string) error {
	return m(ctx, inv, leaveLink)
}

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func testOrg() org.Organisation {
	return org.Organisation{ID: "o1", Name: "Nordlys", Settings: org.NewSettings(30), Roles: access.DefaultRoles()}
}

func phones(raw, region string) (string, error) {
	if raw == "915 12 345" && region == "NO" {
		return "+4791512345", nil
	}
	return "", fault.New(fault.Invalid, "bad")
}

func TestInviteDecisions(t *testing.T) {
	admin := &org.Member{UserID: "a1", Role: access.Admin, FirstName: "Ada", LastName: "Admin"}
	scoped := &org.Member{UserID: "a2", Role: access.Admin, Units: []string{"north"}}
	member := &org.Member{UserID: "m1", Role: access.Member}
	cases := []struct {
		name    string
		actor   *org.Member
		already bool
		req     Request
		want    fault.Code // "" = created
		fields  []string
	}{
		{"admin invites member", admin, false, Request{Email: "Kari@Example.no", Role: "member", Phone: "915 12 345"}, "", nil},
		{"not a member of the org", nil, false, Request{Email: "k@example.no", Role: "member"}, fault.Forbidden, nil},
		{"member may not invite", member, false, Request{Email: "k@example.no", Role: "member"}, fault.Forbidden, nil},
		{"scoped admin outside units", scoped, false, Request{Email: "k@example.no", Role: "member", Units: []string{"south"}}, fault.Forbidden, nil},
		{"scoped admin inside units", scoped, false, Request{Email: "k@example.no", Role: "member", Units: []string{"north"}}, "", nil},
		{"already a member", admin, true, Request{Email: "k@example.no", Role: "member"}, fault.Conflict, nil},
		{"every bad field listed", admin, false, Request{Email: "nope", Role: "ghost", Phone: "123", Language: "??", FirstName: "a\x07b"},
			fault.Invalid, []string{"email", "firstName", "phone", "language", "role"}},
		{"role required", admin, false, Request{Email: "k@example.no"}, fault.Invalid, []string{"role"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var created *Invitation
			var link string
			svc := &Service{
				Store: &fakeStore{
					InviteContextFn: func(_ context.Context, orgID, actorID, email string) (InviteContext, error) {
						return InviteContext{Org: testOrg(), Actor: tc.actor, AlreadyMember: tc.already}, nil
					},
					CreateInvitationFn: func(_ context.Context, inv Invitation) error { created = &inv; return nil },
				},
				Mailer:    mailerFunc(func(_ context.Context, _ Invitation, l string) error { link = l; return nil }),
				Phones:    phones,
				AcceptURL: "https://join.example/accept",
				Now:       func() time.Time { return now },
			}
			inv, err := svc.Invite(context.Background(), "a1", "o1", tc.req)
			if tc.want != "" {
				e, ok := fault.As(err)
				if !ok || e.Code != tc.want {
					t.Fatalf("want %s, got %v", tc.want, err)
				}
				var got []string
				for _, f := range e.Fields {
					got = append(got, f.Field)
				}
				if tc.fields != nil && strings.Join(got, ",") != strings.Join(tc.fields, ",") {
					t.Fatalf("fields %v, want %v", got, tc.fields)
				}
				if created != nil {
					t.Fatal("stored despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if created == nil || created.TokenHash == "" || inv.Status != Pending || inv.DeliveryStatus != DeliverySent {
				t.Fatalf("invitation %+v", inv)
			}
			if !inv.ExpiresAt.Equal(now.Add(30 * 24 * time.Hour)) {
				t.Fatalf("expires %v", inv.ExpiresAt)
			}
			token := strings.TrimPrefix(link, "https://join.example/accept#token=")
			if len(token) != 43 || opaque.Hash(token) != created.TokenHash || strings.Contains(created.TokenHash, token) {
				t.Fatalf("link %q / hash %q", link, created.TokenHash)
			}
		})
	}
}

func TestMailFailureKeepsInvitation(t *testing.T) {
	var recorded Invitation
	svc := &Service{
		Store: &fakeStore{
			InviteContextFn: func(context.Context, string, string, string) (InviteContext, error) {
				return InviteContext{Org: testOrg(), Actor: &org.Member{UserID: "a1", Role: access.Admin}}, nil
			},
			CreateInvitationFn: func(context.Context, Invitation) error { return nil },
			RecordDeliveryFn:   func(_ context.Context, inv Invitation) error { recorded = inv; return nil },
		},
		Mailer: mailerFunc(func(context.Context, Invitation, string) error { return fault.New(fault.Unavailable, "down") }),
		Now:    func() time.Time { return now },
	}
	inv, err := svc.Invite(context.Background(), "a1", "o1", Request{Email: "k@example.no", Role: "member"})
	if err != nil || inv.DeliveryStatus != DeliveryFailed || recorded.DeliveryStatus != DeliveryFailed {
		t.Fatalf("%+v %v %+v", inv, err, recorded)
	}
	// The sweep tries again in five minutes.
	if recorded.DeliveryAttempts != 1 || recorded.RetryMail != MailInvitation ||
		recorded.NextDeliveryAt == nil || !recorded.NextDeliveryAt.Equal(now.Truncate(time.Second).Add(5*time.Minute)) {
		t.Fatalf("retry not scheduled: %+v", recorded)
	}
}

func TestUsableStates(t *testing.T) {
	token, hash, _ := opaque.New()
	base := Invitation{ID: "i1", OrgID: "o1", Email: "k@example.no", Status: Pending, TokenHash: hash, ExpiresAt: now.Add(time.Hour)}
	cases := []struct {
		name  string
		inv   func() Invitation
		token string
		want  fault.Code
	}{
		{"pending", func() Invitation { return base }, token, ""},
		{"expired at use, not yet swept", func() Invitation { i := base; i.ExpiresAt = now; return i }, token, fault.Gone},
		{"marked expired", func() Invitation { i := base; i.Status = Expired; return i }, token, fault.Gone},
		{"accepted", func() Invitation { i := base; i.Status = Accepted; return i }, token, fault.Conflict},
		{"revoked looks unknown", func() Invitation { i := base; i.Status = Revoked; return i }, token, fault.NotFound},
		{"replaced token", func() Invitation { i := base; i.TokenHash = "other"; return i }, token, fault.NotFound},
		{"reminder token", func() Invitation { i := base; i.TokenHash, i.ReminderTokenHash = "other", hash; return i }, token, ""},
		{"junk token", func() Invitation { return base }, "x", fault.NotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := &Service{Store: &fakeStore{InvitationByTokenFn: func(context.Context, string) (Invitation, error) { return tc.inv(), nil }},
				Now: func() time.Time { return now }}
			_, err := svc.Preview(context.Background(), tc.token)
			if got := fault.CodeOf(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
}

func TestAcceptValidation(t *testing.T) {
	token, hash, _ := opaque.New()
	inv := Invitation{ID: "i1", OrgID: "o1", Email: "k@example.no", Role: "member", Status: Pending, TokenHash: hash, ExpiresAt: now.Add(time.Hour)}
	hasher := account.Hasher{Params: account.Params{MemoryKiB: 1024, Time: 1, Threads: 1}}
	existingHash, _ := hasher.Hash("existing account secret")
	cases := []struct {
		name     string
		existing *account.Account
		req      AcceptRequest
		want     fault.Code
		fields   string
	}{
		{"new account", nil, AcceptRequest{FirstName: "K", LastName: "N", Password: "a good long passphrase", AcceptTerms: true, TermsVersion: "2026-01"}, "", ""},
		{"everything wrong", nil, AcceptRequest{Password: "short", TermsVersion: "old"}, fault.Invalid, "firstName,lastName,password,acceptTerms,termsVersion"},
		{"password is the email", nil, AcceptRequest{FirstName: "K", LastName: "N", Password: "k@example.no", AcceptTerms: true, TermsVersion: "2026-01"}, fault.Invalid, "password"},
		{"existing account, its password", &account.Account{UserID: "u9", Email: "k@example.no", PasswordHash: existingHash},
			AcceptRequest{FirstName: "K", LastName: "N", Password: "existing account secret", AcceptTerms: true, TermsVersion: "2026-01"}, "", ""},
		{"existing account, wrong password", &account.Account{UserID: "u9", Email: "k@example.no", PasswordHash: existingHash},
			AcceptRequest{FirstName: "K", LastName: "N", Password: "a good long passphrase", AcceptTerms: true, TermsVersion: "2026-01"}, fault.Unauthorized, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got *Acceptance
			svc := &Service{Hasher: hasher, TermsVersion: "2026-01", Now: func() time.Time { return now },
				Store: &fakeStore{
					InvitationByTokenFn: func(context.Context, string) (Invitation, error) { return inv, nil },
					AccountByEmailFn:    func(context.Context, string) (*account.Account, error) { return tc.existing, nil },
					AcceptFn:            func(_ context.Context, a Acceptance) error { got = &a; return nil },
				}}
			tc.req.Token = token
			j, err := svc.Accept(context.Background(), tc.req)
			if tc.want != "" {
				e, ok := fault.As(err)
				if !ok || e.Code != tc.want {
					t.Fatalf("want %s, got %v", tc.want, err)
				}
				var fields []string
				for _, f := range e.Fields {
					fields = append(fields, f.Field)
				}
				if strings.Join(fields, ",") != tc.fields {
					t.Fatalf("fields %v, want %s", fields, tc.fields)
				}
				return
			}
			if err != nil || got == nil {
				t.Fatalf("accept: %v", err)
			}
			if got.NewAccount != (tc.existing == nil) || got.Member.Role != "member" || j.UserID != got.Account.UserID {
				t.Fatalf("acceptance %+v", got)
			}
			if got.NewAccount && (got.Account.PasswordHash == tc.req.Password || got.Account.TermsVersion != "2026-01" || !got.Account.TermsAcceptedAt.Equal(now)) {
				t.Fatalf("account %+v", got.Account)
			}
		})
	}
}

func TestProvisionValidates(t *testing.T) {
	svc := &Service{Now: func() time.Time { return now }, Store: &fakeStore{}}
	_, err := svc.Provision(context.Background(), ProvisionRequest{Name: "", AdminEmail: "nope", Language: "??", DefaultPhoneRegion: "XX1"})
	e, ok := fault.As(err)
	if !ok || len(e.Fields) != 4 {
		t.Fatalf("want 4 field errors (name, language, region, email), got %+v", e)
	}
}

// A preset sets the roles, fields, language and region; an unknown one is
// refused naming the valid ones.
func TestProvisionTakesAPreset(t *testing.T) {
	var created org.Organisation
	stop := errors.New("stop after creating")
	svc := &Service{Now: func() time.Time { return now }, Store: &fakeStore{CreateOrganisationFn: func(_ context.Context, o org.Organisation) error {
		created = o
		return stop
	}}}
	req := ProvisionRequest{Name: "Nordlys", AdminEmail: "ada@example.no", Preset: "health-services", Language: "sv"}
	if _, err := svc.Provision(context.Background(), req); !errors.Is(err, stop) {
		t.Fatal(err)
	}
	if _, ok := created.Roles.Find("standard"); !ok || len(created.Settings.CustomFields) != 4 || created.Settings.DefaultLanguage != "sv" {
		t.Fatalf("health-services: %+v", created)
	}
	req.Preset, req.Language = "lone-worker", ""
	if _, err := svc.Provision(context.Background(), req); !errors.Is(err, stop) || created.Settings.DefaultLanguage != "nb" ||
		!created.Roles.Monitored("lone-worker") {
		t.Fatalf("lone-worker: %+v %v", created, err)
	}
	req.Preset = "lone worker"
	_, err := svc.Provision(context.Background(), req)
	if e, ok := fault.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Field != "preset" ||
		!strings.Contains(e.Fields[0].Message, "lone-worker, video-call, service-manager, health-services, none") {
		t.Fatalf("unknown preset: %v", err)
	}
}

// guessesFunc is a Guesses of one function.
type guessesFunc func(ctx context.Context, email, source string) (func(context.Context) error, error)

func (f guessesFunc) Reserve(ctx context.Context, email, source string) (func(context.Context) error, error) {
	return f(ctx, email, source)
}

// Accepting with an existing account's password reserves a guess first, as
// sign-in does; a new account's password is no guess.
func TestAcceptThrottlesExistingAccountPassword(t *testing.T) {
	token, hash, _ := opaque.New()
	inv := Invitation{ID: "i1", OrgID: "o1", Email: "k@example.no", Role: "member", Status: Pending, TokenHash: hash, ExpiresAt: now.Add(time.Hour)}
	hasher := account.Hasher{Params: account.Params{MemoryKiB: 1024, Time: 1, Threads: 1}}
	existingHash, _ := hasher.Hash("existing account secret")
	existing := &account.Account{UserID: "u9", Email: "k@example.no", PasswordHash: existingHash}
	refused := fault.New(fault.TooMany, "too many failed sign-ins; try again later")
	refused.RetryAfter = time.Minute
	cases := []struct {
		name      string
		existing  *account.Account
		password  string
		refuse    bool
		want      fault.Code
		reserved  bool
		succeeded bool
	}{
		{"refused: not checked, not accepted", existing, "existing account secret", true, fault.TooMany, true, false},
		{"wrong password stays counted", existing, "a good long passphrase", false, fault.Unauthorized, true, false},
		{"right password is given back", existing, "existing account secret", false, "", true, true},
		{"new account: no guess", nil, "a good long passphrase", true, "", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var reserved, succeeded, accepted bool
			svc := &Service{Hasher: hasher, Now: func() time.Time { return now },
				Guesses: guessesFunc(func(_ context.Context, email, source string) (func(context.Context) error, error) {
					reserved = true
					if email != "k@example.no" || source != "203.0.113.9" {
						t.Errorf("reserved for %q from %q", email, source)
					}
					if tc.refuse {
						return nil, refused
					}
					return func(context.Context) error { succeeded = true; return nil }, nil
				}),
				Store: &fakeStore{
					InvitationByTokenFn: func(context.Context, string) (Invitation, error) { return inv, nil },
					AccountByEmailFn:    func(context.Context, string) (*account.Account, error) { return tc.existing, nil },
					AcceptFn:            func(context.Context, Acceptance) error { accepted = true; return nil },
				}}
			_, err := svc.Accept(context.Background(), AcceptRequest{Token: token, FirstName: "K", LastName: "N",
				Password: tc.password, AcceptTerms: true, TermsVersion: "2026-01", Source: "203.0.113.9"})
			if fault.CodeOf(err) != tc.want && !(tc.want == "" && err == nil) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
			if tc.want == fault.TooMany {
				if e, _ := fault.As(err); e.RetryAfter != time.Minute {
					t.Fatalf("Retry-After %v", e.RetryAfter)
				}
			}
			if reserved != tc.reserved || succeeded != tc.succeeded || accepted != (tc.want == "") {
				t.Fatalf("reserved %v succeeded %v accepted %v", reserved, succeeded, accepted)
			}
		})
	}
}

// Someone who has an account is added with what the inviter typed in, and
// nothing of the account's profile, which another organisation gave it.
func TestAddedMemberHoldsOnlyWhatTheInviterGave(t *testing.T) {
	var added org.Member
	var stored Invitation
	var leaveLink string
	svc := &Service{
		Store: &fakeStore{
			InviteContextFn: func(context.Context, string, string, string) (InviteContext, error) {
				return InviteContext{Org: testOrg(), Actor: &org.Member{UserID: "a1", Role: access.Admin}, ExistingUserID: "u9"}, nil
			},
			AccountFn: func(context.Context, string) (*account.Account, error) {
				return &account.Account{UserID: "u9", Email: "kari@example.no", FirstName: "Kari", LastName: "Nordmann",
					Phone: "+4791512345", Language: "nb"}, nil
			},
			AddMemberFn: func(_ context.Context, inv Invitation, m org.Member) error { added, stored = m, inv; return nil },
		},
		Mailer: mailerFunc(func(_ context.Context, _ Invitation, l string) error { leaveLink = l; return nil }),
		Phones: phones, AcceptURL: "https://join.example/accept", Now: func() time.Time { return now },
	}
	inv, err := svc.Invite(context.Background(), "a1", "o1", Request{Email: "Kari@Example.no", FirstName: "K.", Role: "member"})
	if err != nil || inv.Status != Accepted {
		t.Fatalf("%+v %v", inv, err)
	}
	if added.UserID != "u9" || added.Email != "kari@example.no" || added.FirstName != "K." || added.LastName != "" || added.Phone != "" {
		t.Fatalf("member %+v: only the inviter's details belong in it", added)
	}
	// The email's leave link: a 256-bit token, stored only as its hash, for
	// this membership and no later one, for 30 days.
	token, ok := strings.CutPrefix(leaveLink, "https://join.example/leave#token=")
	if !ok || len(token) != 43 || stored.LeaveTokenHash != opaque.Hash(token) || added.InvitationID != stored.ID ||
		stored.LeaveExpiresAt == nil || !stored.LeaveExpiresAt.Equal(now.Add(30*24*time.Hour)) {
		t.Fatalf("leave link %q, invitation %+v, member %+v", leaveLink, stored, added)
	}
}

func TestLeave(t *testing.T) {
	token, hash, _ := opaque.New()
	lt := LeaveToken{OrgID: "o1", UserID: "u9", InvitationID: "i1", ExpiresAt: now.Add(time.Hour)}
	member := &org.Member{UserID: "u9", OrgID: "o1", Email: "kari@example.no", Role: "member", Units: []string{"north"}, InvitationID: "i1"}
	cases := []struct {
		name   string
		token  string
		lookup error
		tok    func() LeaveToken
		member func() *org.Member
		store  error
		want   fault.Code
	}{
		{"leaves", token, nil, func() LeaveToken { return lt }, func() *org.Member { return member }, nil, ""},
		{"junk token", "x", nil, func() LeaveToken { return lt }, func() *org.Member { return member }, nil, fault.NotFound},
		{"unknown or used token", token, fault.New(fault.NotFound, "no"), func() LeaveToken { return lt }, func() *org.Member { return member }, nil, fault.NotFound},
		{"expired", token, nil, func() LeaveToken { l := lt; l.ExpiresAt = now; return l }, func() *org.Member { return member }, nil, fault.Gone},
		{"membership already ended", token, nil, func() LeaveToken { return lt }, func() *org.Member { return nil }, nil, fault.NotFound},
		{"a later membership", token, nil, func() LeaveToken { return lt }, func() *org.Member { m := *member; m.InvitationID = "i2"; return &m }, nil, fault.NotFound},
		{"last org-wide admin", token, nil, func() LeaveToken { return lt }, func() *org.Member { return member },
			fault.New(fault.Conflict, "the organisation must keep at least one organisation-wide admin"), fault.Conflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var left *audit.Entry
			svc := &Service{Now: func() time.Time { return now }, Store: &fakeStore{
				LeaveTokenFn: func(_ context.Context, h string) (LeaveToken, error) {
					if h != hash {
						return LeaveToken{}, fault.New(fault.NotFound, "no")
					}
					return tc.tok(), tc.lookup
				},
				ActorFn: func(context.Context, string, string) (org.Organisation, *org.Member, error) {
					return testOrg(), tc.member(), nil
				},
				LeaveFn: func(_ context.Context, h string, got LeaveToken, m org.Member, at time.Time, e audit.Entry) error {
					if h != hash || got != tc.tok() || m.UserID != "u9" || !at.Equal(now) {
						t.Errorf("leave %q %+v %+v %v", h, got, m, at)
					}
					left = &e
					return tc.store
				},
			}}
			res, err := svc.Leave(context.Background(), tc.token)
			if tc.want != "" {
				if fault.CodeOf(err) != tc.want {
					t.Fatalf("want %s, got %v", tc.want, err)
				}
				return
			}
			if err != nil || res.OrgID != "o1" || res.OrgName != "Nordlys" {
				t.Fatalf("%+v %v", res, err)
			}
			// Recorded as an admin's removal is, with the person as its actor.
			if left == nil || left.Action != audit.MemberRemoved || left.ActorID != "u9" || left.TargetID != "u9" || left.Before["role"] != "member" {
				t.Fatalf("audit %+v", left)
			}
		})
	}
}

// An organisation whose setting is existingAccounts "invite" sends an
// existing account an ordinary invitation: nothing is added until the person
// accepts, signing in with the account's password.
func TestExistingAccountInvitedWhenTheOrganisationSaysSo(t *testing.T) {
	o := testOrg()
	o.Settings.ExistingAccounts = org.ExistingAccountsInvite
	var created *Invitation
	var link string
	svc := &Service{
		Store: &fakeStore{
			InviteContextFn: func(context.Context, string, string, string) (InviteContext, error) {
				return InviteContext{Org: o, Actor: &org.Member{UserID: "a1", Role: access.Admin}, ExistingUserID: "u9"}, nil
			},
			CreateInvitationFn: func(_ context.Context, inv Invitation) error { created = &inv; return nil },
			AddMemberFn: func(context.Context, Invitation, org.Member) error {
				t.Fatal("added at once despite the setting")
				return nil
			},
		},
		Mailer:    mailerFunc(func(_ context.Context, _ Invitation, l string) error { link = l; return nil }),
		AcceptURL: "https://join.example/accept", Now: func() time.Time { return now },
	}
	inv, err := svc.Invite(context.Background(), "a1", "o1", Request{Email: "kari@example.no", Role: "member"})
	if err != nil || inv.Status != Pending || created == nil || !strings.HasPrefix(link, "https://join.example/accept#token=") {
		t.Fatalf("%+v %v link %q", inv, err, link)
	}
}
