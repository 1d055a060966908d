package trigger

import (
	"context"
	"log/slog"

	"onboarding/shared/invite"
	"onboarding/shared/redact"
)

// Provision handles a direct invocation (events/provision.json): the
// provision function.
type Provision struct {
	// Provision creates an organisation and invites its first admin
	// (invite.Service's Provision).
	Provision func(ctx context.Context, req invite.ProvisionRequest) (invite.Provisioned, error)
	Log       *slog.Logger
}

// Handle provisions, logging the admin's address masked; an error is
// returned masked (the caller gets it, and it may quote the request).
func (h *Provision) Handle(ctx context.Context, req invite.ProvisionRequest) (invite.Provisioned, error) {
	out, err := h.Provision(ctx, req)
	if err != nil {
		h.Log.ErrorContext(ctx, "provision failed", "admin", redact.Email(req.AdminEmail), "error", err.Error())
		return out, redact.Error(err)
	}
	h.Log.InfoContext(ctx, "provisioned", "orgId", out.OrgID, "invitationId", out.InvitationID,
		"admin", redact.Email(req.AdminEmail), "delivery", out.DeliveryStatus)
	return out, nil
}
