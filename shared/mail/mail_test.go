package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"onboarding/infra/testenv"
	"onboarding/shared/invite"
)

func sample() invite.Invitation {
	return invite.Invitation{
		Email: "kari@example.no", FirstName: "Kari", LastName: "Nordmann", OrgName: "Nordlys <Care>",
		InviterName: "Ada Admin", Role: "member", Language: "en", Message: "Welcome aboard!\nSee you Monday.",
		ExpiresAt: time.Date(2026, 12, 23, 10, 0, 0, 0, time.UTC),
	}
}

func TestComposeInvitation(t *testing.T) {
	c, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	link := "https://app.example.com/accept#token=abc"
	m, err := c.ComposeInvitation(sample(), link)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Ada Admin invited you to join Nordlys <Care>" {
		t.Fatalf("subject %q", m.Subject)
	}
	for _, want := range []string{"Hello Kari Nordmann,", "Nordlys &lt;Care&gt;", link, "Welcome aboard!", "23/12/2026"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if strings.Contains(m.HTML, "<Care>") {
		t.Error("organisation name not escaped in HTML")
	}
	for _, want := range []string{"Hello Kari Nordmann,", "Nordlys <Care>", link, "Accept the invitation:"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	// The first admin is invited by the system, on behalf of the organisation.
	inv := sample()
	inv.InviterName, inv.FirstName, inv.LastName = "", "", ""
	m, err = c.ComposeInvitation(inv, link)
	if err != nil || !strings.HasPrefix(m.Subject, "The Nordlys <Care> team invited you") || !strings.Contains(m.Text, "Hello,") {
		t.Fatalf("system invitation %q %v", m.Subject, err)
	}
}

func TestMatch(t *testing.T) {
	c, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Match("en-GB"); got != "en" {
		t.Errorf("en-GB -> %s", got)
	}
	if got := c.Match("", "zz"); got != Fallback {
		t.Errorf("unknown -> %s", got)
	}
}

func TestSendThroughSESEmulator(t *testing.T) {
	testenv.Integration(t)
	client := sesv2.NewFromConfig(testenv.AWSConfig(), func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(testenv.SESEndpoint())
	})
	c, _ := LoadCatalogue()
	to := "mailtest-" + testenv.RandomID() + "@example.no"
	inv := sample()
	inv.Email = to
	m := InvitationMailer{Catalogue: c, Sender: SES{Client: client, From: "no-reply@example.com"}}
	if err := m.SendInvitation(context.Background(), inv, "https://x/accept#token=t"); err != nil {
		t.Fatal(err)
	}
	got := testenv.WaitForEmails(t, to, 1)
	if got[0].Subject != "Ada Admin invited you to join Nordlys <Care>" || !strings.Contains(got[0].Body.Text, "https://x/accept#token=t") {
		t.Fatalf("stored email %+v", got[0])
	}
}
