package trigger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"onboarding/shared/invite"
	"onboarding/shared/trigger"
)

func TestProvisionLogsTheAdminMasked(t *testing.T) {
	var req invite.ProvisionRequest
	readEvent(t, "provision.json", &req)
	var got invite.ProvisionRequest
	log, logged := logs()
	h := &trigger.Provision{Log: log, Provision: func(_ context.Context, r invite.ProvisionRequest) (invite.Provisioned, error) {
		got = r
		return invite.Provisioned{OrgID: "org1", InvitationID: "inv1", Status: "pending", DeliveryStatus: "sent"}, nil
	}}
	out, err := h.Handle(context.Background(), req)
	if err != nil || out.OrgID != "org1" || got != req {
		t.Fatalf("%+v %v; provisioned %+v", out, err, got)
	}
	l := lines(t, logged, "provisioned")
	if len(l) != 1 || l[0]["admin"] != "a***@fjellheim.example" || l[0]["orgId"] != "org1" || l[0]["delivery"] != "sent" {
		t.Fatalf("log:\n%s", logged)
	}
	if strings.Contains(logged.String(), req.AdminEmail) {
		t.Fatalf("the address is in the log:\n%s", logged)
	}
}

func TestProvisionReturnsAnErrorMasked(t *testing.T) {
	var req invite.ProvisionRequest
	readEvent(t, "provision.json", &req)
	taken := errors.New("conflict")
	log, logged := logs()
	h := &trigger.Provision{Log: log, Provision: func(_ context.Context, r invite.ProvisionRequest) (invite.Provisioned, error) {
		return invite.Provisioned{}, fmt.Errorf("invite %s: %w", r.AdminEmail, taken)
	}}
	_, err := h.Handle(context.Background(), req)
	if !errors.Is(err, taken) || strings.Contains(err.Error(), req.AdminEmail) {
		t.Fatalf("returned %v: want the error, masked", err)
	}
	l := lines(t, logged, "provision failed")
	if len(l) != 1 || l[0]["admin"] != "a***@fjellheim.example" || strings.Contains(logged.String(), req.AdminEmail) {
		t.Fatalf("log:\n%s", logged)
	}
}
