// Package audit records who did what in an organisation. Each entry is
// written in the same transaction as the change it describes, so no change
// happens unrecorded; entries expire after a retention period.
package audit

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Actions recorded.
const (
	InvitationCreated  = "invitation.created"
	InvitationResent   = "invitation.resent"
	InvitationRevoked  = "invitation.revoked"
	InvitationDeleted  = "invitation.deleted"
	InvitationAccepted = "invitation.accepted"
	InvitationExpired  = "invitation.expired"
	InvitationUpdated  = "invitation.updated"
	MemberAdded        = "member.added"
	MemberUpdated      = "member.updated"
	MemberRemoved      = "member.removed"
	MemberErased       = "member.erased"
	MonitoringUpdated  = "monitoring.updated"
	UnitCreated        = "unit.created"
	UnitRenamed        = "unit.renamed"
	UnitDeleted        = "unit.deleted"
	SettingsUpdated    = "settings.updated"
	RolesUpdated       = "roles.updated"
	PartnerSaved       = "partner.saved"
	PartnerDeleted     = "partner.deleted"
	PartnerRedelivered = "partner.redelivered"
	PartnerRosterSent  = "partner.roster_requested"
	TermsAccepted      = "terms.accepted"
)

// System is the actor of what the service does by itself (provisioning,
// sweeps).
const System = "system"

// Entry is one recorded action. Before and After hold only what changed and
// never a token, password or safe word.
type Entry struct {
	ID         string         `json:"entryId" dynamodbav:"entryId"`
	OrgID      string         `json:"orgId" dynamodbav:"orgId"`
	At         time.Time      `json:"at" dynamodbav:"at"`
	ActorID    string         `json:"actorId" dynamodbav:"actorId"`
	Action     string         `json:"action" dynamodbav:"action"`
	TargetType string         `json:"targetType" dynamodbav:"targetType"`
	TargetID   string         `json:"targetId" dynamodbav:"targetId"`
	Before     map[string]any `json:"before,omitempty" dynamodbav:"before,omitempty"`
	After      map[string]any `json:"after,omitempty" dynamodbav:"after,omitempty"`
}

// New returns an entry at the given time. Its id starts with the wall
// clock's milliseconds, so entries within one second list in the order they
// were written.
func New(orgID, actorID, action, targetType, targetID string, at time.Time) Entry {
	b := make([]byte, 14)
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:])
	return Entry{ID: hex.EncodeToString(b), OrgID: orgID, At: at.UTC().Truncate(time.Second),
		ActorID: actorID, Action: action, TargetType: targetType, TargetID: targetID}
}

// Changed sets Before and After.
func (e Entry) Changed(before, after map[string]any) Entry {
	e.Before, e.After = before, after
	return e
}

// Pseudonymisation replaces a person in the entries about them (erasure):
// the entries keep the event, but what names the person becomes Pseudonym.
type Pseudonymisation struct {
	Pseudonym string
	// IDs are the person's user id and their invitations' ids.
	IDs []string
	// Identifying are values only this person has (email, phone).
	Identifying []string
	// Names are replaced in entries about the person, but alone do not make
	// an entry theirs: another member may share them.
	Names []string
}

// Apply returns e with the person replaced, and whether e was about them:
// its actor or target is one of IDs, or one of its values (Before and After,
// at any depth) is one of IDs or Identifying (an invitation.deleted entry
// names the email of an invitation no longer stored).
func (p Pseudonymisation) Apply(e Entry) (Entry, bool) {
	strong, all := map[string]bool{}, map[string]bool{}
	for _, list := range [][]string{p.IDs, p.Identifying, p.Names} {
		for _, v := range list {
			if v != "" {
				all[v] = true
			}
		}
	}
	for _, list := range [][]string{p.IDs, p.Identifying} {
		for _, v := range list {
			if v != "" {
				strong[v] = true
			}
		}
	}
	if !strong[e.ActorID] && !strong[e.TargetID] && !mentions(e.Before, strong) && !mentions(e.After, strong) {
		return e, false
	}
	if strong[e.ActorID] {
		e.ActorID = p.Pseudonym
	}
	if strong[e.TargetID] {
		e.TargetID = p.Pseudonym
	}
	if e.Before != nil {
		e.Before = replaceIn(e.Before, all, p.Pseudonym).(map[string]any)
	}
	if e.After != nil {
		e.After = replaceIn(e.After, all, p.Pseudonym).(map[string]any)
	}
	return e, true
}

// mentions reports whether v holds one of values, at any depth.
func mentions(v any, values map[string]bool) bool {
	switch x := v.(type) {
	case string:
		return values[x]
	case map[string]any:
		for _, e := range x {
			if mentions(e, values) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if mentions(e, values) {
				return true
			}
		}
	}
	return false
}

// replaceIn returns v with every string in values replaced by with.
func replaceIn(v any, values map[string]bool, with string) any {
	switch x := v.(type) {
	case string:
		if values[x] {
			return with
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = replaceIn(e, values, with)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = replaceIn(e, values, with)
		}
		return out
	}
	return v
}
