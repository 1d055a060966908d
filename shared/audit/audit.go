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
	MonitoringUpdated  = "monitoring.updated"
	UnitCreated        = "unit.created"
	UnitRenamed        = "unit.renamed"
	UnitDeleted        = "unit.deleted"
	SettingsUpdated    = "settings.updated"
	PartnerSaved       = "partner.saved"
	PartnerDeleted     = "partner.deleted"
	PartnerRedelivered = "partner.redelivered"
	PartnerRosterSent  = "partner.roster_requested"
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
