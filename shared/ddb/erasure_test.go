package ddb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/infra/testenv"
	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/erasure"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/monitor"
	"onboarding/shared/org"
	"onboarding/shared/partner"
	"onboarding/shared/quota"
)

const kariPassword = "kari's long passphrase"

// kari is a person in three organisations: a member of A (accepted, with a
// monitoring profile) and of B (added at once), and invited to C. It
// returns her user id and the organisations.
func kari(t *testing.T, f fixture, email string) (userID string, orgs [3]string, admins [3]string, cToken string) {
	t.Helper()
	ctx := context.Background()
	for i, name := range []string{"a", "b", "c"} {
		f.svc.Now = f.clock.Now
		orgs[i], admins[i] = f.provisionAndJoin(t, fmt.Sprintf("admin-%s@%s.example", name, strings.Split(email, "@")[0]))
	}
	if _, err := f.svc.Invite(ctx, admins[2], orgs[2], invite.Request{Email: email, FirstName: "Kari", LastName: "Nordmann", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	cToken = f.mail.token(t, email)
	if _, err := f.svc.Invite(ctx, admins[0], orgs[0], invite.Request{Email: email, FirstName: "Kari", LastName: "Nordmann", Phone: "915 12 345", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	j, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, email), FirstName: "Kari", LastName: "Nordmann",
		Password: kariPassword, AcceptTerms: true, TermsVersion: "2026-01"})
	if err != nil {
		t.Fatal(err)
	}
	if inv, err := f.svc.Invite(ctx, admins[1], orgs[1], invite.Request{Email: email, FirstName: "Kari", LastName: "Nordmann", Role: "member"}); err != nil || inv.Status != invite.Accepted {
		t.Fatalf("add to B: %v %v", inv.Status, err)
	}
	rec := monitor.Record{OrgID: orgs[0], UserID: j.UserID, Version: 1, UpdatedBy: admins[0],
		Profile: monitor.Profile{SafeWord: "bluebird", EscalationContacts: []monitor.Contact{{Name: "Ola", Phone: "+4791234567"}}}}
	if err := f.store.PutMonitoringProfile(ctx, rec, audit.New(orgs[0], admins[0], audit.MonitoringUpdated, "member", j.UserID, f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	return j.UserID, orgs, admins, cToken
}

// scanFor returns every item of the table that holds one of needles
// anywhere (the test may scan; the service never does).
func scanFor(t *testing.T, f fixture, needles ...string) []string {
	t.Helper()
	client := testenv.DynamoDBClient()
	var found []string
	p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: aws.String(f.table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				t.Fatal(err)
			}
			s := fmt.Sprint(m)
			for _, n := range needles {
				if strings.Contains(s, n) {
					found = append(found, s)
					break
				}
			}
		}
	}
	return found
}

func TestEraseLeavesNothingOfThePerson(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	email := "kari@example.no"
	userID, orgs, admins, _ := kari(t, f, email)
	// What the sessions work stores, and a failed sign-in's throttle.
	if _, err := testenv.DynamoDBClient().PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "USER#" + userID}, "SK": &types.AttributeValueMemberS{Value: "SESSION#s1"},
		"userAgent": &types.AttributeValueMemberS{Value: "Firefox"}, "tokenHash": &types.AttributeValueMemberS{Value: "stored-token-hash-zq"},
	}}); err != nil {
		t.Fatal(err)
	}
	signIn := account.NewSignIn(f.store, f.svc.Hasher, nil, f.clock.Now)
	if _, err := signIn.SignIn(ctx, email, "not her password", "198.51.100.7", ""); fault.CodeOf(err) != fault.Unauthorized {
		t.Fatalf("wrong sign-in: %v", err)
	}
	// A monitoring partner of A is told of her (a snapshot, a delivery).
	told := toldPartner(t, f, orgs[0], admins[0], email)
	svc := erasure.New(f.store, f.clock.Now)
	svc.Hasher = f.svc.Hasher

	doc, err := svc.Export(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Memberships) != 2 || len(doc.Invitations) != 3 || len(doc.Monitoring) != 1 || len(doc.Sessions) != 1 || len(doc.Audit) < 4 {
		t.Errorf("export: %d memberships, %d invitations, %d profiles, %d sessions, %d audit entries",
			len(doc.Memberships), len(doc.Invitations), len(doc.Monitoring), len(doc.Sessions), len(doc.Audit))
	}
	if s := fmt.Sprint(doc); strings.Contains(s, "bluebird") || strings.Contains(s, "stored-token-hash-zq") || doc.Sessions[0]["userAgent"] != "Firefox" {
		t.Errorf("export holds a secret, or lost the session: %s", s)
	}

	// The export says what the partner was told, but not the safe word.
	b, _ := json.Marshal(doc.Partners)
	if len(doc.Partners) != 1 || !doc.Partners[0].Present || doc.Partners[0].PartnerName != "Vakt 24" ||
		!strings.Contains(string(b), "Nordmann") || strings.Contains(string(b), "bluebird") || string(doc.Partners[0].Worker["hasSafeWord"]) != "true" {
		t.Errorf("export of what partners were told: %s", b)
	}

	// An unit-scoped or other organisation's admin cannot; the member
	// belongs to other organisations, so not even A's admin can.
	if err := svc.EraseMember(ctx, admins[0], orgs[0], userID); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("admin erasure of a member of three organisations: %v", err)
	}
	if err := svc.EraseSelf(ctx, userID, kariPassword, "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	// The stream tells the partner she is gone (as the notify function
	// would on the membership's deletion).
	told.notify(t, partner.WorkerRemoved)
	if left := scanFor(t, f, userID, email, "Nordmann", "+4791512345", "+4791234567"); len(left) > 0 {
		t.Errorf("erasure left %d items naming her:\n%s", len(left), strings.Join(left, "\n"))
	}
	for i, orgID := range orgs {
		entries, _, err := f.store.AuditTrail(ctx, orgID, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		want := audit.MemberErased
		if i == 2 {
			want = audit.InvitationRevoked
		}
		if entries[0].Action != want || !strings.HasPrefix(entries[0].TargetID, "erased-") || entries[0].ActorID != entries[0].TargetID {
			t.Errorf("org %d's newest entry: %+v", i, entries[0])
		}
	}
	if a, err := f.store.AccountByEmail(ctx, email); a != nil || err != nil {
		t.Errorf("the account is still found: %v %v", a, err)
	}
}

// An invitation accepted while the person is being erased: either the
// accept loses (the invitation was erased first, or the account was gone
// by its transaction) or the membership it made is erased too.
func TestEraseRacesAnAccept(t *testing.T) {
	// The accept starts later each round, so that it lands before, inside
	// and after the erasure's steps (locally an erasure takes ~30 ms).
	for round, delay := range []time.Duration{0, 2, 5, 10, 20, 40} {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			email := fmt.Sprintf("race%d@example.no", round)
			userID, orgs, admins, cToken := kari(t, f, email)
			// Leave A and B so that her admin in C could erase her too.
			for i := range 2 {
				if err := (f.store).RemoveMember(ctx, mustMember(t, f, orgs[i], userID), audit.New(orgs[i], admins[i], audit.MemberRemoved, "member", userID, f.clock.Now())); err != nil {
					t.Fatal(err)
				}
			}
			svc := erasure.New(f.store, f.clock.Now)
			svc.Hasher = f.svc.Hasher
			var wg sync.WaitGroup
			var eraseErr, acceptErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				eraseErr = svc.EraseSelf(ctx, userID, kariPassword, "198.51.100.8")
			}()
			go func() {
				defer wg.Done()
				time.Sleep(delay * time.Millisecond)
				_, acceptErr = f.svc.Accept(ctx, invite.AcceptRequest{Token: cToken, FirstName: "Kari", LastName: "Nordmann",
					Password: kariPassword, AcceptTerms: true, TermsVersion: "2026-01"})
			}()
			wg.Wait()
			if eraseErr != nil {
				t.Fatalf("erase: %v", eraseErr)
			}
			t.Logf("accept: %v", acceptErr)
			if ms, err := f.store.Memberships(ctx, userID); err != nil || len(ms) > 0 {
				t.Errorf("memberships left: %v %v", ms, err)
			}
			if left := scanFor(t, f, userID, email); len(left) > 0 {
				t.Errorf("left:\n%s", strings.Join(left, "\n"))
			}
		})
	}
}

func mustMember(t *testing.T, f fixture, orgID, userID string) org.Member {
	t.Helper()
	m, err := f.store.Member(context.Background(), orgID, userID)
	if err != nil || m == nil {
		t.Fatalf("member %s of %s: %v", userID, orgID, err)
	}
	return *m
}

// partnerMail records what a partner is emailed.
type partnerMail struct{ changes []partner.Delivery }

func (m *partnerMail) SendChanges(_ context.Context, _ partner.Partner, d partner.Delivery) error {
	m.changes = append(m.changes, d)
	return nil
}
func (m *partnerMail) SendRoster(context.Context, partner.Partner, partner.Delivery) error {
	return nil
}
func (m *partnerMail) SendWebhookDisabled(context.Context, partner.Partner, string) error {
	return nil
}

// told is a partner of an organisation that has been told of a worker.
type told struct {
	f            fixture
	orgID, email string
	notifier     *partner.Notifier
	mail         *partnerMail
}

// toldPartner connects an email partner to orgID and tells it of email's
// worker.
func toldPartner(t *testing.T, f fixture, orgID, adminID, email string) *told {
	t.Helper()
	p := connectPartner(t, f, orgID, adminID, email)
	p.notify(t, partner.WorkerAdded)
	return p
}

// connectPartner connects the email partner "vakt" to orgID, to be told
// of email's worker.
func connectPartner(t *testing.T, f fixture, orgID, adminID, email string) *told {
	t.Helper()
	ps := &partner.Service{Store: f.store, Now: f.clock.Now}
	c := partner.Config{Name: "Vakt 24", Email: &struct {
		Addresses []string `json:"addresses"`
		Language  string   `json:"language"`
	}{Addresses: []string{"vakt@alarm.example"}}}
	if _, _, err := ps.Put(context.Background(), adminID, orgID, "vakt", c); err != nil {
		t.Fatal(err)
	}
	p := &told{f: f, orgID: orgID, email: email, mail: &partnerMail{}}
	p.notifier = &partner.Notifier{Store: f.store, Mailer: p.mail, Now: f.clock.Now}
	return p
}

// notify tells the partner of the worker as they are now, and checks it
// was sent an event of type want.
func (p *told) notify(t *testing.T, want string) {
	t.Helper()
	sent := len(p.mail.changes)
	if err := p.notifier.Notify(context.Background(), p.orgID, []partner.Change{{OrgID: p.orgID, Email: p.email, At: p.f.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	if len(p.mail.changes) != sent+1 || len(p.mail.changes[sent].Events) != 1 || p.mail.changes[sent].Events[0].Type != want {
		t.Fatalf("the partner was not sent %s: %+v", want, p.mail.changes[sent:])
	}
}

// An invitation to her that expired waits in its admin's digest, with her
// address and names, until the admin is emailed: erasure takes her line
// out, and the digest counts one less.
func TestEraseTakesThePersonOutOfExpiryDigests(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	email := "kari@example.no"
	orgA, adminA := f.provisionAndJoin(t, "admin@a.example")
	orgB, adminB := f.provisionAndJoin(t, "admin@b.example")
	if _, err := f.svc.Invite(ctx, adminA, orgA, invite.Request{Email: email, FirstName: "Kari", LastName: "Nordmann", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	j, err := f.svc.Accept(ctx, invite.AcceptRequest{Token: f.mail.token(t, email), FirstName: "Kari", LastName: "Nordmann",
		Password: kariPassword, AcceptTerms: true, TermsVersion: "2026-01"})
	if err != nil {
		t.Fatal(err)
	}
	var invs []invite.Invitation
	for _, to := range []string{email, "ola@example.no"} {
		inv, err := f.svc.Invite(ctx, adminB, orgB, invite.Request{Email: to, FirstName: "Kari", LastName: "Nordmann", Role: "member"})
		if err != nil {
			t.Fatal(err)
		}
		invs = append(invs, inv)
	}
	f.clock.Add(31 * day)
	now := f.clock.Now()
	d := &invite.Digest{OrgID: orgB, AdminID: adminB, ID: "d1", DueAt: now}
	for _, inv := range invs {
		x := invite.Expiry{At: now, KeepUntil: now.Add(90 * day), Digest: d,
			Audit: audit.New(orgB, audit.System, audit.InvitationExpired, "invitation", inv.ID, now),
			Entry: invite.DigestEntry{InvitationID: inv.ID, Email: inv.Email, FirstName: inv.FirstName, LastName: inv.LastName, Role: inv.Role}}
		if err := f.store.Expire(ctx, f.get(t, orgB, inv.ID), x); err != nil {
			t.Fatal(err)
		}
	}
	svc := erasure.New(f.store, f.clock.Now)
	svc.Hasher = f.svc.Hasher
	if err := svc.EraseSelf(ctx, j.UserID, kariPassword, "198.51.100.9"); err != nil {
		t.Fatal(err)
	}
	if left := scanFor(t, f, j.UserID, email); len(left) > 0 {
		t.Errorf("erasure left %d items naming her:\n%s", len(left), strings.Join(left, "\n"))
	}
	got, err := testenv.DynamoDBClient().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "ORG#" + orgB}, "SK": &types.AttributeValueMemberS{Value: "DIGEST#" + adminB + "#d1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := got.Item["total"].(*types.AttributeValueMemberN); !ok || n.Value != "1" {
		t.Errorf("the digest should count one: %v", got.Item["total"])
	}
	if ola := scanFor(t, f, "DIGEST#"+adminB+"#d1#"+invs[1].ID); len(ola) != 1 {
		t.Errorf("Ola's line should stay: %v", ola)
	}
}

// The export budget is counted under QUOTA#export#user#<user>, by hour; the
// eleventh export in the hour is refused, and erasure deletes the counters
// named by the user id (export and change of address) with the rest.
func TestExportCounterIsStoredByUserAndErased(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	userID, _, _, _ := kari(t, f, "kari@example.no")
	svc := erasure.New(f.store, f.clock.Now)
	svc.Hasher = f.svc.Hasher
	for i := range erasure.ExportsPerHour {
		if _, err := svc.Export(ctx, userID); err != nil {
			t.Fatalf("export %d: %v", i+1, err)
		}
	}
	var fe *fault.Error
	if _, err := svc.Export(ctx, userID); !errors.As(err, &fe) || fe.Code != fault.TooMany || fe.RetryAfter <= 0 || fe.RetryAfter > time.Hour {
		t.Fatalf("export %d: %v", erasure.ExportsPerHour+1, err)
	}
	if _, err := f.store.Take(ctx, quota.Name{Kind: quota.EmailChangeUser, Subject: userID}, 5, 24*time.Hour, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	client := testenv.DynamoDBClient()
	window := strconv.FormatInt(f.clock.Now().UTC().Truncate(time.Hour).Unix(), 10)
	got, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "QUOTA#export#user#" + userID},
			"SK": &types.AttributeValueMemberS{Value: "WINDOW#" + window}}})
	if err != nil {
		t.Fatal(err)
	}
	if used, ok := got.Item["used"].(*types.AttributeValueMemberN); !ok || used.Value != strconv.Itoa(erasure.ExportsPerHour) {
		t.Fatalf("the export counter: %v", got.Item)
	}
	if err := svc.EraseSelf(ctx, userID, kariPassword, "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	for _, pk := range []string{"QUOTA#export#user#" + userID, "QUOTA#emailchange#user#" + userID} {
		out, err := client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(f.table), ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Items) != 0 {
			t.Errorf("erasure left %s: %v", pk, out.Items)
		}
	}
}

// Export and erasure after an email change reach the invitations sent to
// the earlier address: nothing of them (names, phone, the address in an
// invitation or an audit entry) is left.
func TestEraseAfterEmailChangeLeavesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := "kari@example.no"
	userID, _, _, _ := kari(t, f, old)
	f.changeEmail(t, userID, kariPassword, "kari.new@example.no")
	svc := erasure.New(f.store, f.clock.Now)
	svc.Hasher = f.svc.Hasher

	doc, err := svc.Export(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Invitations) != 3 {
		t.Errorf("export after an email change: %d invitations, want 3", len(doc.Invitations))
	}
	if err := svc.EraseSelf(ctx, userID, kariPassword, "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	if left := scanFor(t, f, "email:"+old, "INVITEE#"+old, "Nordmann", "+4791512345"); len(left) > 0 {
		t.Errorf("erasure left %d items naming her:\n%s", len(left), strings.Join(left, "\n"))
	}
}
