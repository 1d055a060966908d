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
	// ResetAddress counts password reset requests for one address
	// (Subject: the normalised email), whether or not an account has it.
	ResetAddress
	// ResetSource counts password reset requests from one source
	// (Subject: account.SourceKey's).
	ResetSource
	// AddressEmails counts the emails the service itself (no organisation)
	// sends one address in a day (Subject: the normalised email).
	AddressEmails
	// EmailChangeUser counts the changes of address one account starts in
	// a day (Subject: the user id).
	EmailChangeUser
	// ExportUser counts the exports one account asks for in an hour
	// (Subject: the user id).
	ExportUser
)

// Name is one quota: its kind and whose it is.
type Name struct {
	Kind    Kind
	Org     string
	Subject string
}
