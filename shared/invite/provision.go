package invite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/clean"
	"onboarding/shared/fault"
	"onboarding/shared/org"
)

// ProvisionRequest creates an organisation and invites its first admin. It
// arrives by direct invocation only (IAM-guarded), never over HTTP.
type ProvisionRequest struct {
	Name               string `json:"name"`
	AdminEmail         string `json:"adminEmail"`
	AdminFirstName     string `json:"adminFirstName"`
	AdminLastName      string `json:"adminLastName"`
	Language           string `json:"language"`
	DefaultPhoneRegion string `json:"defaultPhoneRegion"`
	// Preset sets roles, custom fields, language and region for one of the
	// products (org.PresetNames); "" or "none" gives the defaults. Language
	// and region, when given, win over the preset's.
	Preset string `json:"preset"`
}

// Provisioned is the result of provisioning.
type Provisioned struct {
	OrgID        string `json:"orgId"`
	InvitationID string `json:"invitationId"`
	// Status is "pending", or "accepted" when the admin already had an
	// account and was added at once.
	Status         Status `json:"status"`
	DeliveryStatus string `json:"deliveryStatus"`
}

// Provision creates an organisation with its preset's (or the default)
// roles and settings and invites its first, organisation-wide admin.
func (s *Service) Provision(ctx context.Context, req ProvisionRequest) (Provisioned, error) {
	var errs fault.Fields
	name, err := clean.Name(req.Name, 200, true)
	if e, ok := fault.As(err); ok {
		errs.Add("name", string(e.Code), e.Message)
	}
	preset, err := org.FindPreset(req.Preset)
	if e, ok := fault.As(err); ok {
		errs.Add("preset", string(e.Code), e.Message)
		preset, _ = org.FindPreset(org.PresetNone) // to check the rest of the request
	}
	settings := preset.Settings(s.LifetimeDays)
	if strings.TrimSpace(req.Language) != "" {
		if settings.DefaultLanguage, err = org.NormalizeLanguage(req.Language); err != nil {
			errs.Add("language", string(fault.Invalid), "unknown language")
		}
	}
	if strings.TrimSpace(req.DefaultPhoneRegion) != "" {
		if settings.DefaultPhoneRegion, err = org.NormalizeRegion(req.DefaultPhoneRegion); err != nil {
			errs.Add("defaultPhoneRegion", string(fault.Invalid), "unknown region")
		}
	}
	o := org.Organisation{
		ID: NewID(), Name: name, Settings: settings,
		Roles: preset.Roles, CreatedAt: s.Now().UTC().Truncate(time.Second),
	}
	email, emailErr := clean.Email(req.AdminEmail)
	inv, err := s.validate(o, Request{
		Email: req.AdminEmail, FirstName: req.AdminFirstName, LastName: req.AdminLastName,
		Language: settings.DefaultLanguage, Role: access.Owner,
	}, email, emailErr)
	if e, ok := fault.As(err); ok {
		errs = append(errs, e.Fields...)
	}
	if err := errs.Err(); err != nil {
		return Provisioned{}, err
	}
	if err := s.Store.CreateOrganisation(ctx, o); err != nil {
		return Provisioned{}, fmt.Errorf("create organisation: %w", err)
	}
	inv.InvitedBy = audit.System
	existing, err := s.Store.AccountByEmail(ctx, inv.Email)
	if err != nil {
		return Provisioned{}, fmt.Errorf("find account: %w", err)
	}
	if existing != nil {
		inv, err = s.addExisting(ctx, inv, existing.UserID, false)
	} else {
		inv, err = s.create(ctx, o, inv, false)
	}
	if err != nil {
		return Provisioned{}, err
	}
	return Provisioned{OrgID: o.ID, InvitationID: inv.ID, Status: inv.Status, DeliveryStatus: inv.DeliveryStatus}, nil
}
