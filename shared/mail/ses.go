package mail

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"onboarding/shared/redact"
)

// Sender sends a rendered message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SESClient is the part of the SES v2 API the sender uses.
type SESClient interface {
	SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends through Amazon SES v2.
type SES struct {
	Client SESClient
	From   string
	// ConfigurationSet, when set, routes sending events (bounces,
	// complaints) to the set's destinations.
	ConfigurationSet string
}

// Send sends one message as UTF-8 HTML with a plain-text alternative.
func (s SES) Send(ctx context.Context, m Message) error {
	utf8 := aws.String("UTF-8")
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: utf8},
			Body: &types.Body{
				Html: &types.Content{Data: aws.String(m.HTML), Charset: utf8},
				Text: &types.Content{Data: aws.String(m.Text), Charset: utf8},
			},
		}},
	}
	for _, a := range m.Attachments {
		in.Content.Simple.Attachments = append(in.Content.Simple.Attachments, types.Attachment{
			FileName: aws.String(a.Name), ContentType: aws.String(a.ContentType), RawContent: a.Data,
			ContentDisposition: types.AttachmentContentDispositionAttachment})
	}
	if len(m.Cc) > 0 {
		in.Destination.ToAddresses = append(in.Destination.ToAddresses, m.Cc...)
	}
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	if _, err := s.Client.SendEmail(ctx, in); err != nil {
		// SES names the addresses it refuses.
		return fmt.Errorf("ses send email: %w", redact.Error(err))
	}
	return nil
}
