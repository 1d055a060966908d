// Package quota names the rate limits the service counts, by what each
// counts; the store turns a name into its key (shared/ddb/keys.go), so no
// domain package spells out a storage format.
package quota

// Kind is what a quota counts.
type Kind int

const (
	// SignInAddress counts failed password guesses at one address
	// (Subject: the normalised email).
	SignInAddress Kind = iota + 1
	// SignInSource counts failed guesses from one source (Subject:
	// account.SourceKey's).
	SignInSource
	// SignInAll counts everyone's failed guesses.
	SignInAll
	// OrgInvitations counts the invitations an organisation sends (Org).
	OrgInvitations
	// OrgRecipient counts the emails an organisation sends one person (Org;
	// Subject: the normalised email).
	OrgRecipient
)

// Name is one quota: its kind and whose it is.
type Name struct {
	Kind    Kind
	Org     string
	Subject string
}
