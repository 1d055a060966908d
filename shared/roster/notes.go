package roster

import (
	"maps"
	"regexp"
	"slices"
	"strconv"

	"onboarding/shared/locale"
)

// knownMessages are the English messages of clean, monitor, access and
// invite that a row can meet, with the key each is said by in a report. They are matched
// here, rather than carried as keys through fault.FieldError, whose JSON is
// the API's (TestEveryKnownMessageHasItsKey runs the checks that make them,
// so a changed message fails the test rather than the reader).
var knownMessages = []struct {
	re   *regexp.Regexp
	key  string
	args []string
}{
	{regexp.MustCompile(`^an email address is required$`), "email.required", nil},
	{regexp.MustCompile(`^the email address is too long$`), "email.tooLong", nil},
	{regexp.MustCompile(`^not a valid email address$`), "email.invalid", nil},
	{regexp.MustCompile(`^required$`), "required", nil},
	{regexp.MustCompile(`^not valid UTF-8$`), "utf8", nil},
	{regexp.MustCompile(`^at most (\d+) characters$`), "tooLong", []string{"Max"}},
	{regexp.MustCompile(`^contains control characters$`), "control", nil},
	{regexp.MustCompile(`^at most (\d+)$`), "atMost", []string{"Max"}},
	{regexp.MustCompile(`^at least (\d+) escalation contacts with name and phone; (\d+) given$`), "contacts.min", []string{"Min", "Given"}},
	{regexp.MustCompile(`^not a valid phone number$`), "phone.invalid", nil},
	{regexp.MustCompile(`^the worker's own number; a contact must be someone else$`), "phone.own", nil},
	{regexp.MustCompile(`^the same number as contact (\d+)$`), "phone.same", []string{"Other"}},
	{regexp.MustCompile(`^not a date \(use YYYY-MM-DD\)$`), "date.invalid", nil},
	{regexp.MustCompile(`^takes effect (\d{4}-\d\d-\d\d), less than (\d+) days ahead`), "rota.shortNotice", []string{"EffectiveDate", "Days"}},
	{regexp.MustCompile(`^a monitored worker needs a mobile number and at least (\d+) escalation contacts$`), "monitored.needs", []string{"Min"}},
	// The rules of access and invite a row can meet.
	{regexp.MustCompile(`^your role may not invite "(.*)"$`), "role.mayNotInvite", []string{"Value"}},
	{regexp.MustCompile(`^only an organisation-wide admin may invite admins$`), "admins.orgWideOnly", nil},
	{regexp.MustCompile(`^you may invite only into your own units$`), "units.ownOnly", nil},
	{regexp.MustCompile(`^this person is already a member of the organisation$`), "alreadyMember", nil},
	{regexp.MustCompile(`^the uploader is no longer a member of this organisation$`), "uploader.notMember", nil},
}

// NoteFor is the key and arguments a known English message is said by;
// any other message is "refused", quoting it (a rule of another service,
// which keeps its English).
func NoteFor(message string) (string, map[string]string) {
	for _, k := range knownMessages {
		m := k.re.FindStringSubmatch(message)
		if m == nil {
			continue
		}
		var args map[string]string
		for i, name := range k.args {
			if args == nil {
				args = map[string]string{}
			}
			args[name] = m[i+1]
		}
		return k.key, args
	}
	return "refused", map[string]string{"Detail": message}
}

// NotesOf are a row's problems as notes (errors and warnings alike).
func NotesOf(problems []Problem) []Note {
	notes := make([]Note, 0, len(problems))
	for _, p := range problems {
		key, args := p.Key, p.Args
		if key == "" {
			key, args = NoteFor(p.Message)
		}
		notes = append(notes, Note{Key: key, Column: p.Column, Warning: p.Severity == Warning, Args: args})
	}
	return notes
}

// UnreadNote is a column not read, as a note.
func UnreadNote(u Unread) Note {
	args := map[string]string{"Column": u.Column, "Header": u.Header}
	if u.Reason == NoHeader {
		args = map[string]string{"Column": u.Column, "Row": strconv.Itoa(u.Row)}
	}
	if u.Reason == Repeated {
		args["Of"] = u.of
	}
	if u.Reason == NotInFile {
		args = map[string]string{"Header": u.Header}
	}
	return Note{Key: "column." + u.Reason, Warning: true, Args: args}
}

// ReportPrinter is the printer a report is written with, for the first of
// prefs the catalogue has (the uploader's language, then the
// organisation's).
func ReportPrinter(prefs ...string) (locale.Printer, error) {
	c, err := locale.Messages()
	if err != nil {
		return locale.Printer{}, err
	}
	return c.For(prefs...), nil
}

// roleArgs are the notes that name a role by its key, with the argument
// holding it.
var roleArgs = map[string]string{"role.mayNotInvite": "Value", "role.notMonitored": "Value"}

// NamingRoles returns lines whose notes name roles by display name: name
// gives a key's name in the report's language (false for a key the
// organisation no longer has, which stays as it is). The lines given are
// not changed (they may be a stored part's).
func NamingRoles(lines []ReportLine, name func(key string) (string, bool)) []ReportLine {
	out := make([]ReportLine, len(lines))
	for i, l := range lines {
		out[i] = l
		cloned := false
		for j, n := range l.Notes {
			arg, ok := roleArgs[n.Key]
			if !ok {
				continue
			}
			display, ok := name(n.Args[arg])
			if !ok {
				continue
			}
			if !cloned {
				out[i].Notes, cloned = slices.Clone(l.Notes), true
			}
			args := maps.Clone(n.Args)
			args[arg] = display
			out[i].Notes[j].Args = args
		}
	}
	return out
}
