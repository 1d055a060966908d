package partner

import (
	"context"
	"time"

	"onboarding/shared/access"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/org"
)

// AdminStore is what managing partners needs of storage.
type AdminStore interface {
	org.ActorStore
	ListUnits(ctx context.Context, orgID string) ([]org.Unit, error)
	Partners(ctx context.Context, orgID string) ([]Partner, error)
	Partner(ctx context.Context, orgID, partnerID string) (*Partner, error)
	// PutPartner stores p if the stored one has prevVersion (0: none);
	// else Conflict. It makes the partner's queues due.
	PutPartner(ctx context.Context, p Partner, prevVersion int, e audit.Entry) error
	DeletePartner(ctx context.Context, p Partner, e audit.Entry) error
	Deliveries(ctx context.Context, orgID, partnerID string, limit int, cursor string) ([]Delivery, string, error)
	Delivery(ctx context.Context, orgID, partnerID, id string) (Delivery, error)
	// Redeliver queues d (a copy, or a roster) behind what waits, due at once.
	Redeliver(ctx context.Context, d Delivery, e audit.Entry) error
}

// Service manages an organisation's partners: organisation-wide admins only.
type Service struct {
	Store AdminStore
	// AllowLoopback admits http://localhost webhooks (the local runner).
	AllowLoopback bool
	Now           func() time.Time
}

func (s *Service) admin(ctx context.Context, orgID, userID string) (access.Actor, error) {
	o, a, err := org.ResolveActor(ctx, s.Store, orgID, userID)
	if err != nil {
		return a, err
	}
	return a, o.Roles.Require(a, access.ManagePartners, true)
}

// List returns the organisation's partners.
func (s *Service) List(ctx context.Context, userID, orgID string) ([]View, error) {
	if _, err := s.admin(ctx, orgID, userID); err != nil {
		return nil, err
	}
	ps, err := s.Store.Partners(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := []View{}
	for _, p := range ps {
		out = append(out, ViewOf(p, ""))
	}
	return out, nil
}

// Get returns one partner.
func (s *Service) Get(ctx context.Context, userID, orgID, partnerID string) (View, error) {
	if _, err := s.admin(ctx, orgID, userID); err != nil {
		return View{}, err
	}
	p, err := s.find(ctx, orgID, partnerID)
	if err != nil {
		return View{}, err
	}
	return ViewOf(*p, ""), nil
}

// adminOf checks that userID may manage partners and reads one.
func (s *Service) adminOf(ctx context.Context, userID, orgID, partnerID string) (access.Actor, *Partner, error) {
	a, err := s.admin(ctx, orgID, userID)
	if err != nil {
		return a, nil, err
	}
	p, err := s.find(ctx, orgID, partnerID)
	return a, p, err
}

func (s *Service) find(ctx context.Context, orgID, partnerID string) (*Partner, error) {
	if CheckID(partnerID) != nil {
		return nil, fault.New(fault.NotFound, "no such partner")
	}
	p, err := s.Store.Partner(ctx, orgID, partnerID)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fault.New(fault.NotFound, "no such partner")
	}
	return p, nil
}

// Put creates or replaces a partner. created says which; the view carries
// a webhook secret only when this call generated it.
func (s *Service) Put(ctx context.Context, userID, orgID, partnerID string, c Config) (v View, created bool, err error) {
	a, err := s.admin(ctx, orgID, userID)
	if err != nil {
		return View{}, false, err
	}
	if err := CheckID(partnerID); err != nil {
		return View{}, false, err
	}
	old, err := s.Store.Partner(ctx, orgID, partnerID)
	if err != nil {
		return View{}, false, err
	}
	prev := 0
	if old != nil {
		prev = old.Version
	}
	if c.Version != nil && *c.Version != prev {
		return View{}, false, fault.New(fault.Conflict, "the partner was changed meanwhile: read it again")
	}
	units, err := s.Store.ListUnits(ctx, orgID)
	if err != nil {
		return View{}, false, err
	}
	known := map[string]bool{}
	for _, u := range units {
		known[u.ID] = true
	}
	now := s.Now().UTC().Truncate(time.Second)
	p, secret, err := Apply(old, c, Rules{AllowLoopback: s.AllowLoopback, Unit: func(id string) bool { return known[id] }}, now)
	if err != nil {
		return View{}, false, err
	}
	p.OrgID, p.ID = orgID, partnerID
	if p.Webhook != nil {
		p.Webhook.DisabledAt, p.Webhook.DisabledReason = nil, "" // saved: on again
	}
	after := map[string]any{"name": p.Name, "channels": p.Channels(), "units": p.Units, "addedOn": p.AddedOn}
	if p.Webhook != nil {
		after["webhookUrl"] = p.Webhook.URL
	}
	if secret != "" {
		after["secretRotated"] = true
	}
	e := audit.New(orgID, a.UserID, audit.PartnerSaved, "partner", partnerID, now).Changed(nil, after)
	if err := s.Store.PutPartner(ctx, p, prev, e); err != nil {
		return View{}, false, err
	}
	return ViewOf(p, secret), old == nil, nil
}

// Delete removes a partner: nothing more is sent to it.
func (s *Service) Delete(ctx context.Context, userID, orgID, partnerID string) error {
	a, p, err := s.adminOf(ctx, userID, orgID, partnerID)
	if err != nil {
		return err
	}
	e := audit.New(orgID, a.UserID, audit.PartnerDeleted, "partner", partnerID, s.Now().UTC().Truncate(time.Second)).
		Changed(map[string]any{"name": p.Name}, nil)
	return s.Store.DeletePartner(ctx, *p, e)
}

// DeliveryPage is a page of deliveries.
type DeliveryPage struct {
	Items      []DeliveryView `json:"items"`
	NextCursor string         `json:"nextCursor,omitempty"`
}

// Deliveries lists a partner's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, userID, orgID, partnerID string, limit int, cursor string) (DeliveryPage, error) {
	if _, err := s.admin(ctx, orgID, userID); err != nil {
		return DeliveryPage{}, err
	}
	if _, err := s.find(ctx, orgID, partnerID); err != nil {
		return DeliveryPage{}, err
	}
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	ds, next, err := s.Store.Deliveries(ctx, orgID, partnerID, limit, cursor)
	if err != nil {
		return DeliveryPage{}, err
	}
	page := DeliveryPage{Items: []DeliveryView{}, NextCursor: next}
	for _, d := range ds {
		page.Items = append(page.Items, ViewOfDelivery(d))
	}
	return page, nil
}

// Redeliver sends a delivery's events again, as a new delivery behind
// whatever waits (receivers that keep event ids can drop what they have).
// One delivered is trimmed (Delivery.Trim): Conflict, nothing to send.
func (s *Service) Redeliver(ctx context.Context, userID, orgID, partnerID, deliveryID string) (DeliveryView, error) {
	a, p, err := s.adminOf(ctx, userID, orgID, partnerID)
	if err != nil {
		return DeliveryView{}, err
	}
	d, err := s.Store.Delivery(ctx, orgID, partnerID, deliveryID)
	if err != nil {
		return DeliveryView{}, err
	}
	if d.Trimmed {
		return DeliveryView{}, fault.New(fault.Conflict, "the delivery was delivered, and keeps no worker details to send again")
	}
	if d.Channel == ChannelWebhook && p.Webhook == nil || d.Channel == ChannelEmail && p.Email == nil {
		return DeliveryView{}, fault.New(fault.Conflict, "the partner has no %s channel now", d.Channel)
	}
	now := s.Now().UTC()
	copyOf := Delivery{OrgID: orgID, PartnerID: partnerID, ID: NewID(now, 0), Channel: d.Channel, Kind: d.Kind, Generation: p.Generation, Events: d.Events,
		Status: Pending, CreatedAt: now, RedeliveryOf: d.ID}
	e := audit.New(orgID, a.UserID, audit.PartnerRedelivered, "delivery", d.ID, now.Truncate(time.Second)).
		Changed(nil, map[string]any{"deliveryId": copyOf.ID})
	if err := s.Store.Redeliver(ctx, copyOf, e); err != nil {
		return DeliveryView{}, err
	}
	return ViewOfDelivery(copyOf), nil
}

// RequestRoster queues an email of the full current roster to the
// partner's addresses, behind whatever waits; it goes out within a minute.
func (s *Service) RequestRoster(ctx context.Context, userID, orgID, partnerID string) (DeliveryView, error) {
	a, p, err := s.adminOf(ctx, userID, orgID, partnerID)
	if err != nil {
		return DeliveryView{}, err
	}
	if p.Email == nil {
		return DeliveryView{}, fault.New(fault.Conflict, "the partner has no email addresses to send the roster to")
	}
	now := s.Now().UTC()
	d := Delivery{OrgID: orgID, PartnerID: partnerID, ID: NewID(now, 0), Channel: ChannelEmail, Kind: KindRoster, Generation: p.Generation,
		Status: Pending, CreatedAt: now}
	e := audit.New(orgID, a.UserID, audit.PartnerRosterSent, "partner", partnerID, now.Truncate(time.Second)).
		Changed(nil, map[string]any{"deliveryId": d.ID})
	if err := s.Store.Redeliver(ctx, d, e); err != nil {
		return DeliveryView{}, err
	}
	return ViewOfDelivery(d), nil
}
