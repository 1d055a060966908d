package adminapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onboarding/infra/testenv"
	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/authtoken"
	"onboarding/shared/ddb"
	"onboarding/shared/erasure"
	"onboarding/shared/httpapi"
	"onboarding/shared/httpapi/adminapi"
	"onboarding/shared/invite"
	"onboarding/shared/membership"
	"onboarding/shared/org"
	"onboarding/shared/partner"
	"onboarding/shared/phone"
	"onboarding/shared/signer"
)

// noMail sends nothing; the matrix is about who may act.
type noMail struct{}

func (noMail) SendInvitation(context.Context, invite.Invitation, string) error { return nil }
func (noMail) SendAdded(context.Context, invite.Invitation, string, string, string) error {
	return nil
}

// world is one organisation with a member of every kind, and a stranger.
type world struct {
	t      *testing.T
	router *httpapi.Router
	svc    *invite.Service
	store  *ddb.Store
	issuer *authtoken.Issuer
	// sessions opens sessions for the session routes' cases.
	sessions *account.Sessions
	orgID    string
	unitA    string // the scoped actors' unit
	unitB    string // another unit
	owner    string // org-wide admin who sets things up
	actors   map[string]string
	counter  atomic.Int64
	leaving  string // see leaveOrg
}

func (w *world) email(prefix string) string {
	return fmt.Sprintf("%s-%d@example.no", prefix, w.counter.Add(1))
}

// join invites and accepts a member with role and units, returning the user id.
func (w *world) join(inviter, role string, units ...string) string {
	w.t.Helper()
	ctx := context.Background()
	email := w.email(role)
	inv, err := w.svc.Invite(ctx, inviter, w.orgID, invite.Request{Email: email, Role: role, Units: units})
	if err != nil {
		w.t.Fatalf("invite %s: %v", role, err)
	}
	userID := invite.NewID()
	stored, err := w.store.Invitation(ctx, w.orgID, inv.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.store.Accept(ctx, invite.Acceptance{
		Invitation: stored, NewAccount: true, At: time.Now().UTC().Truncate(time.Second),
		Audit:   audit.New(w.orgID, userID, audit.InvitationAccepted, "invitation", inv.ID, time.Now()),
		Account: account.Account{UserID: userID, Email: email, FirstName: "F", LastName: "L", PasswordHash: "x", CreatedAt: time.Now()},
		Member:  org.Member{UserID: userID, OrgID: w.orgID, Email: email, Role: role, Units: stored.Units, JoinedAt: time.Now()},
	}); err != nil {
		w.t.Fatalf("accept %s: %v", role, err)
	}
	return userID
}

func (w *world) call(actor, routeKey string, params map[string]string, body any) int {
	w.t.Helper()
	token, _, _ := w.issuer.Issue(context.Background(), w.actors[actor], "x@example.no", "")
	if params["sessionId"] == "own" { // a session of the actor's own
		s, err := w.sessions.Start(context.Background(), w.actors[actor], "x@example.no", "matrix")
		if err != nil {
			w.t.Fatal(err)
		}
		params = map[string]string{"sessionId": strings.Split(s.RefreshToken, ".")[1]}
	}
	path := routeKey[strings.Index(routeKey, " ")+1:]
	query := map[string]string{}
	for k, v := range params {
		if name, ok := strings.CutPrefix(k, "?"); ok {
			query[name] = v
			continue
		}
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	ev := events.APIGatewayV2HTTPRequest{RouteKey: routeKey, RawPath: path, PathParameters: params, QueryStringParameters: query,
		Headers:        map[string]string{"authorization": "Bearer " + token},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "authz", DomainName: "api.example"}}
	if body != nil {
		b, _ := json.Marshal(body)
		ev.Body = string(b)
	}
	res, err := w.router.Handle(context.Background(), ev)
	if err != nil {
		w.t.Fatal(err)
	}
	return res.StatusCode
}

func newWorld(t *testing.T) *world {
	w := newBareWorld(t)
	w.actors["org-wide admin"] = w.join(w.owner, "admin")
	w.actors["unit admin"] = w.join(w.owner, "admin", w.unitA)
	w.actors["org-wide coordinator"] = w.join(w.owner, "coordinator")
	w.actors["unit coordinator"] = w.join(w.owner, "coordinator", w.unitA)
	w.actors["reporter"] = w.join(w.owner, "reporter")
	w.actors["member"] = w.join(w.owner, "member", w.unitA)
	return w
}

// newBareWorld is an organisation with its owner and units A and B, and an
// admin of another organisation.
func newBareWorld(t *testing.T) *world {
	client, table := testenv.Table(t)
	store := ddb.New(client, table, time.Now)
	key, _ := signer.NewKey()
	issuer, _ := authtoken.NewIssuer(context.Background(), signer.Local{Key: key}, "urn:authz", time.Hour, time.Now)
	svc := &invite.Service{Store: store, Mailer: noMail{}, AcceptURL: "https://x/accept", Now: time.Now, LifetimeDays: 30}
	orgs := &org.Service{Store: store, Now: time.Now}
	sessions := &account.Sessions{Store: store, Tokens: issuer, Now: time.Now}
	router := httpapi.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), authtoken.NewVerifier("urn:authz", &key.PublicKey))
	cursorKey, err := store.CursorKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	(&adminapi.Routes{Invitations: svc, Members: &membership.Service{Store: store, Monitor: store, Phones: phone.Normalize, Now: time.Now},
		Orgs: orgs, Directory: store, Partners: &partner.Service{Store: store, Now: time.Now}, Cursors: httpapi.NewCursors(cursorKey),
		Sessions: sessions, Self: selfService(store),
		Roles:   &org.RoleService{Store: store, Now: time.Now},
		Erasure: erasure.New(store, time.Now)}).Register(router)
	w := &world{t: t, router: router, svc: svc, store: store, issuer: issuer, sessions: sessions, actors: map[string]string{}}

	ctx := context.Background()
	ownerEmail := w.email("owner")
	p, err := svc.Provision(ctx, invite.ProvisionRequest{Name: "Matrix Org", AdminEmail: ownerEmail})
	if err != nil {
		t.Fatal(err)
	}
	w.orgID = p.OrgID
	w.owner = w.acceptProvisioned(p.InvitationID, ownerEmail, w.orgID)
	a, _ := orgs.CreateUnit(ctx, w.owner, w.orgID, "A")
	b, _ := orgs.CreateUnit(ctx, w.owner, w.orgID, "B")
	w.unitA, w.unitB = a.ID, b.ID

	// An admin of another organisation.
	otherEmail := w.email("stranger")
	q, err := svc.Provision(ctx, invite.ProvisionRequest{Name: "Other Org", AdminEmail: otherEmail})
	if err != nil {
		t.Fatal(err)
	}
	w.actors["other org's admin"] = w.acceptProvisioned(q.InvitationID, otherEmail, q.OrgID)
	return w
}

func (w *world) acceptProvisioned(invID, email, orgID string) string {
	w.t.Helper()
	stored, err := w.store.Invitation(context.Background(), orgID, invID)
	if err != nil {
		w.t.Fatal(err)
	}
	userID := invite.NewID()
	if err := w.store.Accept(context.Background(), invite.Acceptance{
		Invitation: stored, NewAccount: true, At: time.Now().UTC().Truncate(time.Second),
		Audit:   audit.New(orgID, userID, audit.InvitationAccepted, "invitation", invID, time.Now()),
		Account: account.Account{UserID: userID, Email: email, PasswordHash: "x", CreatedAt: time.Now()},
		Member:  org.Member{UserID: userID, OrgID: orgID, Email: email, Role: "admin", Units: []string{}, JoinedAt: time.Now()},
	}); err != nil {
		w.t.Fatal(err)
	}
	return userID
}

// pendingIn creates a fresh pending invitation in unit (or org-wide).
func (w *world) pendingIn(role string, units ...string) string {
	w.t.Helper()
	inv, err := w.svc.Invite(context.Background(), w.owner, w.orgID, invite.Request{Email: w.email("pending"), Role: role, Units: units})
	if err != nil {
		w.t.Fatal(err)
	}
	return inv.ID
}

// The expected outcome per actor, in this order. The rule: a target the
// actor cannot see (outside its units, or in another organisation's
// partition) is a 404; one it can see but may not touch is a 403; an
// organisation the actor is not in is a 403.
var actorOrder = []string{"org-wide admin", "unit admin", "org-wide coordinator", "unit coordinator", "reporter", "member", "other org's admin"}

type expect [7]int

func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	A, B := w.unitA, w.unitB
	o := map[string]string{"orgId": w.orgID}
	with := func(k, v string) map[string]string { return map[string]string{"orgId": w.orgID, k: v} }

	cases := []struct {
		name   string
		route  string
		params func() map[string]string
		body   func() any
		want   expect
	}{
		{"read own profile", "GET /me", func() map[string]string { return nil }, nil, expect{200, 200, 200, 200, 200, 200, 200}},
		{"list own sessions", "GET /me/sessions", func() map[string]string { return nil }, nil, expect{200, 200, 200, 200, 200, 200, 200}},
		{"end an own session", "DELETE /me/sessions/{sessionId}", func() map[string]string { return map[string]string{"sessionId": "own"} }, nil,
			expect{204, 204, 204, 204, 204, 204, 204}},
		{"end another person's session", "DELETE /me/sessions/{sessionId}", func() map[string]string {
			s, err := w.sessions.Start(context.Background(), w.owner, "owner@example.no", "matrix")
			if err != nil {
				t.Fatal(err)
			}
			return map[string]string{"sessionId": strings.Split(s.RefreshToken, ".")[1]}
		}, nil, expect{404, 404, 404, 404, 404, 404, 404}},
		{"invite a member into A", "POST /orgs/{orgId}/invitations", func() map[string]string { return o },
			func() any { return map[string]any{"email": w.email("m"), "role": "member", "units": []string{A}} }, expect{201, 201, 201, 201, 403, 403, 403}},
		{"invite a member into B", "POST /orgs/{orgId}/invitations", func() map[string]string { return o },
			func() any { return map[string]any{"email": w.email("m"), "role": "member", "units": []string{B}} }, expect{201, 403, 201, 403, 403, 403, 403}},
		{"invite an org-wide member", "POST /orgs/{orgId}/invitations", func() map[string]string { return o },
			func() any { return map[string]any{"email": w.email("m"), "role": "member"} }, expect{201, 403, 201, 403, 403, 403, 403}},
		{"invite an admin", "POST /orgs/{orgId}/invitations", func() map[string]string { return o },
			func() any { return map[string]any{"email": w.email("a"), "role": "admin"} }, expect{201, 403, 403, 403, 403, 403, 403}},
		{"invite a unit admin into A", "POST /orgs/{orgId}/invitations", func() map[string]string { return o },
			func() any { return map[string]any{"email": w.email("a"), "role": "admin", "units": []string{A}} }, expect{201, 403, 403, 403, 403, 403, 403}},
		{"list invitations", "GET /orgs/{orgId}/invitations", func() map[string]string { return o }, nil, expect{200, 200, 200, 200, 200, 403, 403}},
		{"read an invitation in A", "GET /orgs/{orgId}/invitations/{invitationId}", func() map[string]string { return with("invitationId", w.pendingIn("member", A)) }, nil, expect{200, 200, 200, 200, 200, 403, 403}},
		{"read an invitation in B", "GET /orgs/{orgId}/invitations/{invitationId}", func() map[string]string { return with("invitationId", w.pendingIn("member", B)) }, nil, expect{200, 404, 200, 404, 200, 403, 403}},
		{"resend an invitation in A", "POST /orgs/{orgId}/invitations/{invitationId}/resend", func() map[string]string { return with("invitationId", w.pendingIn("member", A)) }, nil, expect{200, 200, 200, 200, 403, 403, 403}},
		{"resend an invitation in B", "POST /orgs/{orgId}/invitations/{invitationId}/resend", func() map[string]string { return with("invitationId", w.pendingIn("member", B)) }, nil, expect{200, 404, 200, 404, 403, 404, 403}},
		{"resend an admin invitation", "POST /orgs/{orgId}/invitations/{invitationId}/resend", func() map[string]string { return with("invitationId", w.pendingIn("admin")) }, nil, expect{200, 404, 403, 404, 403, 404, 403}},
		{"revoke an invitation in A", "DELETE /orgs/{orgId}/invitations/{invitationId}", func() map[string]string { return with("invitationId", w.pendingIn("member", A)) }, nil, expect{200, 200, 200, 200, 403, 403, 403}},
		{"revoke an invitation in B", "DELETE /orgs/{orgId}/invitations/{invitationId}", func() map[string]string { return with("invitationId", w.pendingIn("member", B)) }, nil, expect{200, 404, 200, 404, 403, 404, 403}},
		{"list members", "GET /orgs/{orgId}/members", func() map[string]string { return o }, nil, expect{200, 200, 200, 200, 200, 403, 403}},
		{"change a member in A", "PATCH /orgs/{orgId}/members/{userId}", func() map[string]string { return with("userId", w.join(w.owner, "member", A)) },
			func() any { return map[string]any{"role": "reporter"} }, expect{200, 200, 200, 200, 403, 403, 403}},
		{"change a member in B", "PATCH /orgs/{orgId}/members/{userId}", func() map[string]string { return with("userId", w.join(w.owner, "member", B)) },
			func() any { return map[string]any{"role": "reporter"} }, expect{200, 404, 200, 404, 403, 404, 403}},
		{"make a member in A an org-wide admin", "PATCH /orgs/{orgId}/members/{userId}", func() map[string]string { return with("userId", w.join(w.owner, "member", A)) },
			func() any { return map[string]any{"role": "admin", "units": []string{}} }, expect{200, 403, 403, 403, 403, 403, 403}},
		{"change an admin", "PATCH /orgs/{orgId}/members/{userId}", func() map[string]string { return with("userId", w.join(w.owner, "admin")) },
			func() any { return map[string]any{"role": "member"} }, expect{200, 404, 403, 404, 403, 404, 403}},
		{"remove a member in A", "DELETE /orgs/{orgId}/members/{userId}", func() map[string]string { return with("userId", w.join(w.owner, "member", A)) }, nil, expect{204, 204, 204, 204, 403, 403, 403}},
		{"remove a member in B", "DELETE /orgs/{orgId}/members/{userId}", func() map[string]string { return with("userId", w.join(w.owner, "member", B)) }, nil, expect{204, 404, 204, 404, 403, 404, 403}},
		{"read the monitoring of a member in A", "GET /orgs/{orgId}/members/{userId}/monitoring", func() map[string]string { return with("userId", w.join(w.owner, "member", A)) },
			nil, expect{200, 200, 200, 200, 200, 403, 403}},
		{"read the monitoring of a member in B", "GET /orgs/{orgId}/members/{userId}/monitoring", func() map[string]string { return with("userId", w.join(w.owner, "member", B)) },
			nil, expect{200, 404, 200, 404, 200, 403, 403}},
		{"set the monitoring of a member in A", "PUT /orgs/{orgId}/members/{userId}/monitoring", func() map[string]string { return with("userId", w.join(w.owner, "member", A)) },
			monitoringBody, expect{200, 200, 200, 200, 403, 403, 403}},
		{"set the monitoring of a member in B", "PUT /orgs/{orgId}/members/{userId}/monitoring", func() map[string]string { return with("userId", w.join(w.owner, "member", B)) },
			monitoringBody, expect{200, 404, 200, 404, 403, 404, 403}},
		{"list units", "GET /orgs/{orgId}/units", func() map[string]string { return o }, nil, expect{200, 200, 200, 200, 200, 200, 403}},
		{"create a unit", "POST /orgs/{orgId}/units", func() map[string]string { return o },
			func() any { return map[string]any{"name": w.email("unit")} }, expect{201, 403, 201, 403, 403, 403, 403}},
		{"rename unit A", "PATCH /orgs/{orgId}/units/{unitId}", func() map[string]string { return with("unitId", A) },
			func() any { return map[string]any{"name": w.email("A")} }, expect{200, 200, 200, 200, 403, 403, 403}},
		{"rename unit B", "PATCH /orgs/{orgId}/units/{unitId}", func() map[string]string { return with("unitId", B) },
			func() any { return map[string]any{"name": w.email("B")} }, expect{200, 403, 200, 403, 403, 403, 403}},
		{"delete an empty unit", "DELETE /orgs/{orgId}/units/{unitId}", func() map[string]string {
			u, err := (&org.Service{Store: w.store, Now: time.Now}).CreateUnit(context.Background(), w.owner, w.orgID, w.email("empty"))
			if err != nil {
				t.Fatal(err)
			}
			return with("unitId", u.ID)
		}, nil, expect{204, 403, 204, 403, 403, 403, 403}},
		{"read settings", "GET /orgs/{orgId}/settings", func() map[string]string { return o }, nil, expect{200, 200, 200, 200, 200, 403, 403}},
		{"change settings", "PATCH /orgs/{orgId}/settings", func() map[string]string { return o },
			func() any { return map[string]any{"invitationLifetimeDays": 30} }, expect{200, 403, 403, 403, 403, 403, 403}},
		{"read the roles", "GET /orgs/{orgId}/roles", func() map[string]string { return o }, nil, expect{200, 200, 200, 200, 200, 403, 403}},
		{"replace the roles (unchanged)", "PUT /orgs/{orgId}/roles", func() map[string]string { return o }, w.currentRoles,
			expect{200, 403, 403, 403, 403, 403, 403}},
		{"read the audit trail", "GET /orgs/{orgId}/audit", func() map[string]string { return o }, nil, expect{200, 403, 403, 403, 403, 403, 403}},
		{"export one's own data", "GET /me/export", func() map[string]string { return nil }, nil, expect{200, 200, 200, 200, 200, 200, 200}},
		// Everyone may erase themselves, with their password; without it no one.
		{"erase oneself without the password", "DELETE /me", func() map[string]string { return nil },
			func() any { return map[string]any{"password": ""} }, expect{422, 422, 422, 422, 422, 422, 422}},
		{"erase a member in A", "DELETE /orgs/{orgId}/members/{userId}", func() map[string]string {
			m := with("userId", w.join(w.owner, "member", A))
			m["?erase"] = "true"
			return m
		}, nil, expect{204, 403, 403, 403, 403, 403, 403}},
		{"list partners", "GET /orgs/{orgId}/partners", func() map[string]string { return o }, nil, expect{200, 403, 403, 403, 403, 403, 403}},
		{"read a partner", "GET /orgs/{orgId}/partners/{partnerId}", func() map[string]string { return with("partnerId", w.partner()) }, nil,
			expect{200, 403, 403, 403, 403, 403, 403}},
		{"connect a partner", "PUT /orgs/{orgId}/partners/{partnerId}", func() map[string]string { return with("partnerId", "p-"+invite.NewID()[:8]) },
			partnerBody, expect{201, 403, 403, 403, 403, 403, 403}},
		{"disconnect a partner", "DELETE /orgs/{orgId}/partners/{partnerId}", func() map[string]string { return with("partnerId", w.partner()) }, nil,
			expect{204, 403, 403, 403, 403, 403, 403}},
		{"list a partner's deliveries", "GET /orgs/{orgId}/partners/{partnerId}/deliveries", func() map[string]string { return with("partnerId", w.partner()) }, nil,
			expect{200, 403, 403, 403, 403, 403, 403}},
		{"redeliver", "POST /orgs/{orgId}/partners/{partnerId}/deliveries/{deliveryId}/redeliver", func() map[string]string {
			id := w.partner()
			return map[string]string{"orgId": w.orgID, "partnerId": id, "deliveryId": w.delivery(id)}
		}, nil, expect{202, 403, 403, 403, 403, 403, 403}},
		{"email the roster to a partner", "POST /orgs/{orgId}/partners/{partnerId}/roster", func() map[string]string { return with("partnerId", w.partner()) }, nil,
			expect{202, 403, 403, 403, 403, 403, 403}},
		// Self-service: everyone acts on their own account alone.
		{"change own profile", "PATCH /me", func() map[string]string { return nil },
			func() any { return map[string]any{"firstName": "Ny", "language": "nb"} }, expect{200, 200, 200, 200, 200, 200, 200}},
		{"change own password (too short)", "POST /me/password", func() map[string]string { return nil },
			func() any { return map[string]any{"currentPassword": "x", "newPassword": "short"} }, expect{422, 422, 422, 422, 422, 422, 422}},
		{"change own email (not an address)", "POST /me/email", func() map[string]string { return nil },
			func() any { return map[string]any{"newEmail": "nope", "password": "x"} }, expect{422, 422, 422, 422, 422, 422, 422}},
		{"leave an organisation", "DELETE /me/memberships/{orgId}", func() map[string]string { return map[string]string{"orgId": w.leaveOrg()} }, nil,
			expect{204, 204, 204, 204, 204, 204, 404}},
		// The organisation has no terms of its own: a member's consent is a
		// conflict, an outsider's not found.
		{"consent to the organisation's terms", "POST /me/consent", func() map[string]string { return nil },
			func() any { return map[string]any{"orgId": w.orgID, "termsVersion": "v1"} }, expect{409, 409, 409, 409, 409, 409, 404}},
	}
	ran := 0
	for _, tc := range cases {
		for i, actor := range actorOrder {
			name := tc.name + "/" + actor
			t.Run(name, func(t *testing.T) {
				var body any
				if tc.body != nil {
					body = tc.body()
				}
				if got := w.call(actor, tc.route, tc.params(), body); got != tc.want[i] {
					t.Errorf("%s: %s got %d, want %d", tc.route, actor, got, tc.want[i])
				}
			})
			ran++
		}
	}
	// Every admin route is in the matrix.
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.route] = true
	}
	for _, r := range w.router.Routes() {
		if !covered[r] {
			t.Errorf("route %s is not in the authorization matrix", r)
		}
	}
	t.Logf("authorization matrix: %d cases (%d routes x %d actors)", ran, len(cases), len(actorOrder))
}

func partnerBody() any {
	return map[string]any{"name": "Vakt 24", "webhook": map[string]string{"url": "https://alarm.example/hooks"}}
}

// partner connects a fresh partner as the owner and returns its id.
func (w *world) partner() string {
	w.t.Helper()
	id := "p-" + invite.NewID()[:8]
	svc := &partner.Service{Store: w.store, Now: time.Now}
	c := partner.Config{Name: "Vakt", Webhook: &struct {
		URL string `json:"url"`
	}{"https://alarm.example/hooks"}}
	c.Email = &struct {
		Addresses []string `json:"addresses"`
		Language  string   `json:"language"`
	}{Addresses: []string{"vakt@example.no"}}
	if _, _, err := svc.Put(context.Background(), w.owner, w.orgID, id, c); err != nil {
		w.t.Fatal(err)
	}
	return id
}

// delivery records a delivery for a partner and returns its id.
func (w *world) delivery(partnerID string) string {
	w.t.Helper()
	d := partner.Delivery{OrgID: w.orgID, PartnerID: partnerID, ID: partner.NewID(time.Now(), 0), Channel: partner.ChannelWebhook,
		Kind: partner.KindChanges, Status: partner.Delivered, CreatedAt: time.Now()}
	if err := w.store.Record(context.Background(), []partner.Delivery{d}, nil, nil); err != nil {
		w.t.Fatal(err)
	}
	return d.ID
}

func monitoringBody() any {
	return map[string]any{"escalationContacts": []map[string]string{{"name": "Ola", "phone": "+4741234567"}, {"name": "Per", "phone": "+4741234568"}},
		"safeWord": "blåbær"}
}

// currentRoles is the organisation's role table as stored, as a PUT body.
func (w *world) currentRoles() any {
	w.t.Helper()
	t, err := (&org.RoleService{Store: w.store, Now: time.Now}).Roles(context.Background(), w.owner, w.orgID)
	if err != nil {
		w.t.Fatal(err)
	}
	return t
}
