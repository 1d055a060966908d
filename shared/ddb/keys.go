// Package ddb is the single-table DynamoDB store. Every key format lives in
// this file; every access pattern is listed here, and each is a GetItem,
// BatchGetItem, Query or conditional write. Nothing in a request path scans:
// the store's Client has no Scan; only the operator's backfill (Backfiller,
// its own client) does.
//
// Items (PK / SK):
//
//	organisation     ORG#<org>          META
//	member           ORG#<org>          MEMBER#<user>    GSI1: USER#<user> / ORG#<org>
//	monitoring       ORG#<org>          MONITOR#<user>   a member's monitoring profile; versioned; goes with the member
//	account          USER#<user>        PROFILE
//	session          USER#<user>        SESSION#<session> a refresh token family: current secret's hash, created, last
//	                                                     used, user agent, idle and absolute expiry; TTL (absolute)
//	email guard      EMAIL#<email>      ACCOUNT          one account per email (conditional put)
//	invitation       ORG#<org>          INVITE#<id>      GSI1: ORG#<org>#INVITES#<status> / <id>; Due index while a sweep has work on it;
//	                                                     InviteeIndex: INVITEE#<email> / INVITE#<id> (keys only)
//	pending guard    ORG#<org>          PENDING#<email>  one pending invitation per email per org
//	unit             ORG#<org>          UNIT#<unit>      counts the writes that put something in it (joins)
//	unit name guard  ORG#<org>          UNITNAME#<name>  unit names unique per org (case and spacing folded)
//	role holders     ORG#<org>          ROLE#<key>       how many members and pending invitations hold the role (the
//	                                                     table itself is in META); exists while the role does
//	audit entry      ORG#<org>          AUDIT#<time>#<id> written in the transaction of the change it records; TTL
//	rate counter     QUOTA#<quota>      WINDOW#<start>   uses in one fixed window (conditional ADD); TTL. Sign-in's
//	                                                     are signin#address#<email>, signin#source#<source>, signin#all;
//	                                                     an organisation's invitations org#<org>#invitations
//	sliding quota    QUOTA#<quota>      SLIDING          the times of the uses in a rolling window; versioned; TTL:
//	                                                     the emails to one person org#<org>#recipient#<email>
//	                                                     password resets are reset#address#<email>,
//	                                                     reset#source#<source>; the service's own emails to one
//	                                                     address a day address#<email>#emails; the changes of
//	                                                     address an account starts a day emailchange#user#<user>
//	reset token      RESET#<sha256>     PASSWORD         a password reset's account, the address it went to, and
//	                                                     expiry; the raw token is
//	                                                     never stored; TTL at expiry. A request for an address
//	                                                     without an account puts one naming no account (the same work)
//	token lookup     TOKEN#<sha256>     INVITE           the raw token is never stored; TTL a week after expiry
//	leave token      LEAVE#<sha256>     MEMBERSHIP       the "added" email's leave link: org, user, the invitation that
//	                                                     made the membership, expiry; the raw token is never stored; TTL
//	expiry digest    ORG#<org>          DIGEST#<admin>#<id> an admin is yet to be told what expired; Due index
//	digest entry     ORG#<org>          DIGEST#<admin>#<id>#<invitation> one expired invitation of a digest
//	sweep checkpoint SWEEP              STATE            the first day whose due bucket may hold anything
//	import job       ORG#<org>          IMPORT#<id>      one file's import: status, counts, checkpoint, lease, column
//	                                                     mapping and the columns not read (at most 50); Due index
//	                                                     (STALEIMPORTS / <staleAt>#<org>#<id>) while it awaits its
//	                                                     upload or runs
//	import places    ORG#<org>          IMPORTPLACES     the ids of the org's imports awaiting upload or running
//	                                                     (a string set of at most importjob.MaxOpenPerOrg)
//	email change     EMAILCHANGE#<sha256> CHANGE       a change of address awaiting the new address's confirmation:
//	                                                     user, old and new address, SHA-256 of the password hash at
//	                                                     the start, expiry; the raw token is never stored; TTL. For
//	                                                     a taken address one naming no one (the same work)
//	sign-in throttle SIGNIN#<email>     SOURCE#<source>  password guesses at one address from one source (IPv4
//	                                                     address or IPv6 /64): failures, wait, last success; versioned; TTL
//	idempotency key  IDEMP#<scope>      IDEMP            a request's claim (holder, lease) then its response; TTL
//	cursor key       CONFIG             CURSORKEY        the HMAC key of list cursors and emailed report links: 32
//	                                                     random bytes, made once
//	search entry     ORG#<org>#SEARCH#MEMBERS|INVITES  <folded term>#<id>  one per distinct folded term (email,
//	                                                     first, last name) of a member or invitation: its list
//	                                                     projection (no secrets) and all its terms; written in the
//	                                                     transaction of every change of what it copies
//	partner          ORG#<org>          PARTNER#<id>     a monitoring partner: channels, webhook secrets, coverage; versioned
//	partner snapshot ORG#<org>          PSTATE#<partner>#<worker> what the partner was last told of a worker (by
//	                                                     partner.WorkerID); versioned; once removed, only the version.
//	                                                     Before: PSTATE#<partner>#<email>, moved when read
//	delivery         ORG#<org>          DELIVERY#<partner>#<id>  a batch of events for one channel: status, attempts; TTL
//	outbox entry     ORG#<org>          OUTBOX#<partner>#<channel>#<seq> a delivery waiting its turn, numbered per queue
//	partner queue    ORG#<org>          QUEUE#<partner>#<channel> next number, waiting count, send lease; Due index
//	                                    (REDELIVER / <time>#...) while it has something due
//
// Access patterns:
//
//	provision an organisation       PutItem META if absent
//	decide on an invitation         BatchGetItem META + inviter's MEMBER + EMAIL guard (+ GetItem MEMBER of the invitee)
//	create an invitation            TransactWriteItems INVITE + PENDING guard + TOKEN, each if absent
//	open a token (preview, accept)  GetItem TOKEN -> GetItem INVITE
//	accept                          TransactWriteItems: INVITE pending->accepted, delete TOKEN and PENDING,
//	                                put PROFILE + EMAIL guard (new account) and MEMBER, each conditional
//	sign in, and accept with an     GetItem SIGNIN SOURCE (refused while it waits); unless that source signed in
//	existing account's password     there lately, UpdateItem QUOTA signin#address, #source, #all (conditional ADD,
//	                                in turn); PutItem SIGNIN SOURCE if the version read (reserves the guess);
//	                                GetItem EMAIL guard -> PROFILE; right password: UpdateItem the QUOTAs back,
//	                                UpdateItem SIGNIN SOURCE (failures cleared, source known)
//	request a password reset        UpdateItem QUOTA reset#source, reset#address, address#...#emails (conditional
//	                                ADD, in turn); GetItem EMAIL guard -> GetItem PROFILE (of no one, "USER#",
//	                                when no account has the address); PutItem RESET if absent
//	confirm a password reset        GetItem RESET -> GetItem PROFILE; TransactWriteItems: delete RESET (if it names
//	                                the account and is unexpired) + UpdateItem PROFILE passwordHash (if it exists
//	                                and still has the address the token went to);
//	                                UpdateItem SIGNIN SOURCE (the confirming source known)
//	a user's organisations          Query GSI1 USER#<user>
//	sign in (a session opens)       ... then PutItem SESSION if absent
//	refresh                         GetItem SESSION; UpdateItem SESSION (new hash, last use, idle expiry) if the hash
//	                                is still the one read and it has not expired. A token not current: DeleteItem
//	sign out, end one session       DeleteItem SESSION if it exists (sign-out: and its hash is the token's)
//	a user's sessions; revoke all   Query USER#<user> SK begins_with SESSION#; BatchWriteItem deletes (all but one)
//	an org's invitations            Query ORG#<org> SK begins_with INVITE# (ids sort by creation), newest first
//	... by status                   Query GSI1 ORG#<org>#INVITES#<status>, newest first
//	search members, invitations     Query ORG#<org>#SEARCH#<kind> SK begins_with <folded q> (filters: role, unit,
//	(q)                             status); an entry whose person has an earlier-sorting term that matches too
//	                                is skipped (listed once). No follow-up reads
//	an org's audit trail            Query ORG#<org> SK begins_with AUDIT#, newest first
//	an org's units                  Query ORG#<org> SK begins_with UNIT#. Every write that puts an invitation or a
//	                                member in a unit updates UNIT#<unit> (if it exists: ADD joins)
//	change the roles                TransactWriteItems: META roles (if rolesVersion as read) + put ROLE# of new roles
//	                                (if absent) + delete ROLE# of removed ones (if members and invitations are 0) +
//	                                audit. Every write that creates, moves or ends a member or a pending invitation
//	                                updates its ROLE# (if it exists: ADD members / invitations)
//	an org's role holder counts     Query ORG#<org> SK begins_with ROLE#
//	count a role on first use       when a write is cancelled on a missing ROLE# (an organisation from before
//	                                counters): GetItem META (role in the table?) -> Query ORG#<org> MEMBER# then
//	                                INVITE# (consistent, role and status projected) -> PutItem ROLE# if absent ->
//	                                the write again, once
//	delete a unit                   GetItem UNIT -> Query ORG#<org> INVITE# then MEMBER# (consistent, filtered on the
//	                                unit) -> TransactWriteItems: delete UNIT (if joins as read) + UNITNAME + audit
//	resend                          TransactWriteItems: INVITE (new token hash and expiry, if still pending under
//	                                the old hash), delete old TOKEN, put new TOKEN, move the PENDING guard's expiry
//	revoke                          TransactWriteItems: INVITE pending->revoked (with a TTL), delete TOKEN and
//	                                PENDING if it names the invitation; if a re-invite has taken the guard (of
//	                                an expired one), again without PENDING. Deleting an unswept one: the same.
//	add an existing account         TransactWriteItems: MEMBER, INVITE (accepted) and LEAVE (when the email goes
//	                                out now; else the sweep's claim puts it) each if absent, units joined, admin
//	                                count, MONITOR (from a roster), audit entry
//	leave (the added email's link)  GetItem LEAVE -> BatchGetItem META + MEMBER; TransactWriteItems: delete MEMBER (if
//	                                as read and made by the invitation LEAVE names), admin count (never below one),
//	                                delete MONITOR, delete LEAVE (if unexpired), audit entry
//	change own profile (PATCH /me)  Query GSI1 USER#<user>; TransactWriteItems: PROFILE + each MEMBER's copy of names
//	                                and phone (if it exists); past 100 items, further transactions of MEMBERs
//	change own password             GetItem PROFILE; sign-in's throttle as above; UpdateItem PROFILE if the hash read
//	start an email change           GetItem PROFILE; sign-in's throttle; UpdateItem QUOTA emailchange#user, then
//	                                address#<new>#emails (conditional ADD); GetItem EMAIL guard; PutItem EMAILCHANGE
//	                                if absent
//	confirm an email change         GetItem EMAILCHANGE -> GetItem PROFILE; Query GSI1 USER#<user>; TransactWriteItems:
//	                                delete EMAILCHANGE (if unexpired), put the new EMAIL guard (if absent: one account
//	                                wins an address), delete the old (if the user's), PROFILE email (if the old and
//	                                the password hash as read), each MEMBER's copy; then, best effort, Query
//	                                InviteeIndex INVITEE#<old> -> UpdateItem each INVITE SET InviteePK INVITEE#<new>
//	                                if it still has the old (its email stays the address it was sent to)
//	leave an organisation (own)     BatchGetItem META + MEMBER; TransactWriteItems as removing a member
//	cursors' and report links' key  GetItem CURSORKEY; when absent PutItem if absent -> GetItem (at cold start:
//	                                invite, imports, ingest)
//	Idempotency-Key                 PutItem IDEMP if absent, expired, or its lease passed unanswered (one taker
//	                                wins) -> GetItem IDEMP; UpdateItem / DeleteItem IDEMP if still the holder's
//	a member's role (every request) GetItem MEMBER
//	monitoring profile              GetItem MONITOR; put: TransactWriteItems MONITOR (if the version read) +
//	                                ConditionCheck MEMBER + audit entry
//	what is due (sweeps)            Query DueIndex DUE#<day> with DueSK <= now, for each day from the checkpoint
//	                                to today. The index is sparse: an invitation is in it only while a sweep has
//	                                something to do (expire it, remind, retry a failed email), keyed by the time
//	                                that is next due (Invitation.NextDue), and digests wait there until emailed.
//	                                It projects whole items, so a sweep reads each due item once.
//	expire                          TransactWriteItems: INVITE pending->expired (TTL, out of the index) if as read,
//	                                delete TOKENs and PENDING (as for revoke), count it in the inviter's DIGEST
//	                                and put its entry, audit entry
//	a digest's entries              Query ORG#<org> SK begins_with DIGEST#<admin>#<id># (only for a digest an
//	                                earlier run left; a run knows its own); BatchWriteItem deletes them once sent
//	erase an address's digest lines Query ORG#<org> SK begins_with DIGEST# (digests not yet sent: few); per entry
//	                                naming the address TransactWriteItems delete it + ADD -1 to its DIGEST's total;
//	                                a DIGEST left with none: DeleteItem if its total is still <= 0
//	remind / retry an email         TransactWriteItems: INVITE (new token hash, attempt, lease) if as read,
//	                                delete the old TOKEN (LEAVE for the added email), put the new; then
//	                                UpdateItem with the outcome
//	roster rows (new people)        BatchGetItem EMAIL guards + PENDING guards per 50 rows; TransactWriteItems of
//	                                up to 100 items: per person INVITE + PENDING + TOKEN + audit, each unit joined once
//	tell partners (stream batch)    Query PARTNER#; BatchGetItem (MEMBER for profile-only changes), EMAIL + PENDING
//	                                guards, MEMBER + MONITOR + INVITE, PSTATE snapshots (those not found: by
//	                                email, each found moved by TransactWriteItems put + delete); then per <= 97 events
//	                                (and <= 256 KB of them, under 3 MB with their snapshots: partner.MaxDeliveryBytes)
//	                                TransactWriteItems: DELIVERY + OUTBOX per channel, QUEUE (next number, if as
//	                                read), PSTATE each if as read
//	send a queue                    UpdateItem QUEUE lease (if free); Query OUTBOX (in order) -> BatchGetItem
//	                                DELIVERY; after each: TransactWriteItems DELIVERY + delete OUTBOX + QUEUE count;
//	                                an entry whose DELIVERY is gone (TTL): TransactWriteItems delete OUTBOX (if
//	                                it is still there) + QUEUE count
//	partner retries (every minute)  Query DueIndex REDELIVER with DueSK <= now
//	open an import (API)            TransactWriteItems: put IMPORT if absent (in the Due index at when its upload
//	                                should have come) + ADD its id to IMPORTPLACES if the set is not full
//	claim an import (a run)         UpdateItem IMPORT if awaiting upload, or running that version with its lease
//	                                over; it enters the Due index at its lease's end. Progress: UpdateItem IMPORT
//	                                if running that version (a handover moves its due time); finish:
//	                                TransactWriteItems: put IMPORT on the same condition, out of the index +
//	                                DELETE its id from IMPORTPLACES
//	export (GET /me/export)         GetItem PROFILE; UpdateItem QUOTA export#user (conditional ADD); Query GSI1
//	                                USER#<user>; Query InviteeIndex INVITEE#<email> -> BatchGetItem INVITE; Query
//	                                USER#<user> SESSION#; per organisation GetItem MONITOR and Query ORG#<org> AUDIT#
//	                                (all of it: entries are not indexed by person)
//	erase a person                  as export, then per membership TransactWriteItems (as leave: MEMBER, admin count,
//	                                MONITOR, audit member.erased); per invitation TransactWriteItems: delete INVITE
//	                                (if as read), TOKENs, PENDING (if it names it), LEAVE, audit; per organisation
//	                                Query ORG#<org> AUDIT# -> UpdateItem each entry about the person (pseudonym);
//	                                Query USER#<user> (sessions), SIGNIN#<email>,
//	                                QUOTA#signin#address#<email>, QUOTA#org#<org>#recipient#<email>,
//	                                QUOTA#emailchange#user#<user>, QUOTA#export#user#<user>: DeleteItem each;
//	                                TransactWriteItems delete PROFILE + EMAIL guard (if it names the user)
//	stale imports (every sweep)     Query DueIndex STALEIMPORTS with DueSK <= now (only imports awaiting upload or
//	                                running are in it, keyed by when each is stale, so this reads only those whose
//	                                run died or whose upload did not come in time); UpdateItem IMPORT (a resume
//	                                counted, or an uploaded file's event awaited, and due again later) if still
//	                                due as read; or TransactWriteItems: IMPORT failed and out of the index (if
//	                                due as read) + DELETE its id from IMPORTPLACES
//	backfill InviteeIndex           the one Scan, for an operator (infra/backfill, once, after the index came), in
//	(operator only)                 no request path: parallel segments, filtered (SK begins_with INVITE#, type
//	                                invitation, no InviteePK), keys and email projected -> UpdateItem INVITE SET
//	                                InviteePK if it exists, still lacks it, and has the email read
//	own terms on GET /me            Query GSI1 USER#<user>; per membership BatchGetItem META (+ MEMBER): the
//	                                organisation's terms version against the one the MEMBER accepted
//	consent to terms (/me/consent)  BatchGetItem META + MEMBER; TransactWriteItems: UpdateItem MEMBER termsVersion,
//	                                termsAcceptedAt (if it exists) + ConditionCheck META (its terms version is the
//	                                one accepted) + audit entry
package ddb

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"onboarding/shared/invite"
	"onboarding/shared/partner"
	"onboarding/shared/quota"
)

// Attribute and index names, shared with template.yaml.
const (
	attrPK     = "PK"
	attrSK     = "SK"
	attrGSI1PK = "GSI1PK"
	attrGSI1SK = "GSI1SK"
	attrDuePK  = "DuePK"
	attrDueSK  = "DueSK"
	attrTTL    = "ttl"
	attrType   = "type"

	IndexGSI1 = "GSI1"
	IndexDue  = "DueIndex"
	// IndexInvitee finds the invitations to an email in every organisation
	// (export and erasure).
	IndexInvitee = "InviteeIndex"
)

// attrInviteePK is an invitation's InviteeIndex key.
const attrInviteePK = "InviteePK"

func orgPK(orgID string) string                   { return "ORG#" + orgID }
func userPK(userID string) string                 { return "USER#" + userID }
func emailPK(email string) string                 { return "EMAIL#" + email }
func inviteePK(email string) string               { return "INVITEE#" + email }
func tokenPK(hash string) string                  { return "TOKEN#" + hash }
func leavePK(hash string) string                  { return "LEAVE#" + hash }
func emailChangeKey(hash string) key              { return key{"EMAILCHANGE#" + hash, "CHANGE"} }
func signInPK(email string) string                { return "SIGNIN#" + email }
func resetKey(hash string) key                    { return key{"RESET#" + hash, skReset} }
func signInSourceSK(source string) string         { return "SOURCE#" + source }
func memberSK(userID string) string               { return "MEMBER#" + userID }
func sessionSK(id string) string                  { return "SESSION#" + id }
func inviteSK(invitationID string) string         { return invitePrefix + invitationID }
func pendingSK(email string) string               { return "PENDING#" + email }
func auditSK(at time.Time, id string) string      { return auditPrefix + stamp(at) + "#" + id }
func unitSK(unitID string) string                 { return "UNIT#" + unitID }
func monitorSK(userID string) string              { return "MONITOR#" + userID }
func importSK(id string) string                   { return "IMPORT#" + id }
func unitNameSK(nameKey string) string            { return "UNITNAME#" + nameKey }
func roleSK(roleKey string) string                { return "ROLE#" + roleKey }
func duePK(at time.Time) string                   { return "DUE#" + at.UTC().Format("2006-01-02") }
func digestSK(adminID, id string) string          { return "DIGEST#" + adminID + "#" + id }
func invitesByStatus(orgID, status string) string { return "ORG#" + orgID + "#INVITES#" + status }
func idempotencyKey(scope string) key             { return key{"IDEMP#" + scope, "IDEMP"} }

// searchPK is the partition of an organisation's search entries of one kind
// (kindMembers, kindInvitations); searchSK an entry's sort key: the folded
// term, then the member's user id or the invitation's id. With "" for the
// id.
func searchPK(orgID, kind string) string { return "ORG#" + orgID + "#SEARCH#" + kind }
func searchSK(term, id string) string    { return term + "#" + id }
func dueSK(at time.Time, orgID, id string) string {
	return stamp(at) + "#" + orgID + "#" + id
}

// dueBy is the Due index sort key below which sorts everything due at or
// before now's second: DueSK is <time>#<org>#<id>, and "$" sorts right
// after "#".
func dueBy(now time.Time) string { return stamp(now) + "$" }

func digestKey(d invite.Digest) key { return key{orgPK(d.OrgID), digestSK(d.AdminID, d.ID)} }

// digestOfEntry is the key of the digest an entry (by its key) is in.
func digestOfEntry(entry key) key {
	return key{entry.PK, entry.SK[:strings.LastIndex(entry.SK, "#")]}
}

// digestEntryKey is one entry's key; with "" its sort key is the prefix of
// all the digest's entries.
func digestEntryKey(d invite.Digest, invitationID string) key {
	return key{orgPK(d.OrgID), digestSK(d.AdminID, d.ID) + "#" + invitationID}
}

func digestDueSK(d invite.Digest) string { return dueSK(d.DueAt, d.OrgID, "digest-"+d.ID) }

// Rate counters: a fixed window's count, or a sliding window's use times,
// under the quota's name (quotaName).
func quotaWindowKey(name string, start time.Time) key {
	return key{quotaPK(name), "WINDOW#" + strconv.FormatInt(start.Unix(), 10)}
}
func slidingQuotaKey(name string) key { return key{quotaPK(name), "SLIDING"} }
func quotaPK(name string) string      { return "QUOTA#" + name }

// quotaName is the name a quota is stored under: byte for byte the names
// stored before the domain named quotas by kind, so live counters go on.
func quotaName(q quota.Name) (string, error) {
	switch q.Kind {
	case quota.SignInAddress:
		return "signin#address#" + q.Subject, nil
	case quota.SignInSource:
		return "signin#source#" + q.Subject, nil
	case quota.SignInAll:
		return "signin#all", nil
	case quota.OrgInvitations:
		return "org#" + q.Org + "#invitations", nil
	case quota.OrgRecipient:
		return "org#" + q.Org + "#recipient#" + q.Subject, nil
	case quota.ResetAddress:
		return "reset#address#" + q.Subject, nil
	case quota.ResetSource:
		return "reset#source#" + q.Subject, nil
	case quota.AddressEmails:
		return "address#" + q.Subject + "#emails", nil
	case quota.EmailChangeUser:
		return "emailchange#user#" + q.Subject, nil
	case quota.ExportUser:
		return "export#user#" + q.Subject, nil
	}
	return "", fmt.Errorf("unknown quota kind %d", q.Kind)
}

// Partner items. With "" for the last part, partnerSK, snapshotSK and
// deliverySK are the prefixes their lists query.
func partnerSK(id string) string                { return "PARTNER#" + id }
func snapshotSK(partnerID, wkrID string) string { return "PSTATE#" + partnerID + "#" + wkrID }
func deliverySK(partnerID, id string) string    { return "DELIVERY#" + partnerID + "#" + id }
func outboxPrefix(q partner.Queue) string       { return "OUTBOX#" + q.PartnerID + "#" + q.Channel + "#" }
func queueSK(q partner.Queue) string            { return "QUEUE#" + q.PartnerID + "#" + q.Channel }
func outboxSK(q partner.Queue, seq int) string  { return outboxPrefix(q) + fmt.Sprintf("%015d", seq) }

// legacySnapshotSK is where a snapshot was kept before it was keyed by
// worker id: the key held the email.
func legacySnapshotSK(partnerID, email string) string { return snapshotSK(partnerID, email) }

// snapshotKey is the key of what partnerID was last told of email's worker.
func snapshotKey(orgID, partnerID, email string) key {
	return key{orgPK(orgID), snapshotSK(partnerID, partner.WorkerID(orgID, email))}
}

// outboxSeq reads the number back from an outbox entry's sort key.
func outboxSeq(q partner.Queue, sk string) (int, error) {
	return strconv.Atoi(strings.TrimPrefix(sk, outboxPrefix(q)))
}

// pkRedeliver is the due index partition of partner queues waiting for a
// retry (few at a time: only queues whose partner is failing).
const pkRedeliver = "REDELIVER"

// queueDueSK is a partner queue's Due index sort key: when it is due (to
// the millisecond), then the queue.
func queueDueSK(q partner.Queue, at time.Time) string {
	return at.UTC().Format(queueDueFormat) + "#" + q.OrgID + "#" + q.PartnerID + "#" + q.Channel
}

// queuesDueBy is the highest REDELIVER sort key due at now ("~" sorts after
// every character of an id).
func queuesDueBy(now time.Time) string { return now.UTC().Format(queueDueFormat) + "#~" }

const queueDueFormat = "2006-01-02T15:04:05.000Z"

// StreamPrefixes are the sort key prefixes of the items whose changes
// matter to partners (StreamChanges reads them; the template's filter
// criteria let only these invoke the notify function).
var StreamPrefixes = []string{memberSK(""), monitorSK(""), inviteSK(""), partnerSK("")}

// pkStaleImports is the Due index partition of running imports, keyed by
// when each is stale (few at a time: the imports running now).
const pkStaleImports = "STALEIMPORTS"

// staleImportSK is a running or awaiting import's Due index sort key: when
// it is stale.
func staleImportSK(at time.Time, orgID, id string) string { return dueSK(at, orgID, id) }

// importPlacesKey is the item whose set of import ids holds an
// organisation's places for imports (see Store.OpenImport).
func importPlacesKey(orgID string) key { return key{orgPK(orgID), skImportPlaces} }

// attrPlaces is the places item's set of import ids.
const attrPlaces = "imports"

const (
	skMeta    = "META"
	skProfile = "PROFILE"
	skAccount = "ACCOUNT"
	skInvite  = "INVITE"
	skLeave   = "MEMBERSHIP"
	skReset   = "PASSWORD"
	skState   = "STATE"
	pkSweep   = "SWEEP"
	pkConfig  = "CONFIG"
	skCursors = "CURSORKEY"

	skImportPlaces = "IMPORTPLACES"

	auditPrefix = "AUDIT#"
	// invitePrefix begins every invitation's sort key (inviteSK).
	invitePrefix = "INVITE#"
	// digestPrefix begins every digest's and digest entry's sort key.
	digestPrefix = "DIGEST#"
)

// stamp formats a time so that string order is time order (UTC, whole
// seconds): condition expressions compare these strings.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
