package org

import (
	"strings"

	"onboarding/shared/access"
	"onboarding/shared/fault"
)

// Preset names: what provisioning an organisation for one of the products
// sets up.
const (
	PresetNone           = "none"
	PresetLoneWorker     = "lone-worker"
	PresetVideoCall      = "video-call"
	PresetServiceManager = "service-manager"
	PresetHealthServices = "health-services"
)

// PresetNames lists the presets, as provisioning takes them.
func PresetNames() []string {
	return []string{PresetLoneWorker, PresetVideoCall, PresetServiceManager, PresetHealthServices, PresetNone}
}

// Preset is a starting point for a new organisation: its roles (named in
// the product's languages), custom fields, default language and region.
// Admins change any of it afterwards.
type Preset struct {
	Name     string
	Roles    access.Roles
	Fields   []CustomField
	Language string // "" keeps the default
	Region   string // "" keeps the default
}

// FindPreset returns the preset of this name; "" is none (today's
// defaults). An unknown name is Invalid, naming the valid ones.
func FindPreset(name string) (Preset, error) {
	switch strings.TrimSpace(name) {
	case "", PresetNone:
		return Preset{Name: PresetNone, Roles: access.DefaultRoles(), Fields: []CustomField{}}, nil
	case PresetLoneWorker:
		return Preset{Name: PresetLoneWorker, Language: "nb", Region: "NO", Fields: []CustomField{}, Roles: access.Roles{
			access.OwnerRole(adminNames(), []string{access.Owner, "responder", "lone-worker"}, false),
			{Key: "responder", Names: responderNames, MayInvite: []string{}, ReadLists: true},
			{Key: "lone-worker", Names: loneWorkerNames, MayInvite: []string{}, Monitored: true},
		}}, nil
	case PresetVideoCall:
		return Preset{Name: PresetVideoCall, Fields: []CustomField{}, Roles: access.Roles{
			access.OwnerRole(adminNames(), []string{access.Owner, access.Coordinator, access.Reporter}, false),
			{Key: access.Coordinator, Names: coordinatorNames, MayInvite: []string{access.Coordinator, access.Reporter},
				ConfigureUnits: true, ReadLists: true, ImportRosters: true},
			{Key: access.Reporter, Names: reporterNames, MayInvite: []string{}, ReadLists: true},
		}}, nil
	case PresetServiceManager:
		// Technicians are invited into client groups (units), which scope
		// what they see; only admins invite.
		return Preset{Name: PresetServiceManager, Fields: []CustomField{}, Roles: access.Roles{
			access.OwnerRole(adminNames(), []string{access.Owner, "technician"}, false),
			{Key: "technician", Names: technicianNames, MayInvite: []string{}, ReadLists: true},
		}}, nil
	case PresetHealthServices:
		// Admins invited into units administer those units only.
		min, maxCredits := 0.0, 1000.0
		return Preset{Name: PresetHealthServices, Roles: access.Roles{
			access.OwnerRole(adminNames(), []string{access.Owner, "standard"}, false),
			{Key: "standard", Names: standardNames, MayInvite: []string{}},
		}, Fields: []CustomField{
			{Key: "services", Label: "Services", Type: FieldMultiselect,
				AllowedValues: []string{"therapy", "homeCare", "practicalAssistance", "transport"}},
			{Key: "therapistDescription", Label: "Description for the therapist", Type: FieldText,
				RequiredWhen: &Condition{Field: "services", Equals: "therapy"}},
			{Key: "credits", Label: "Credits", Type: FieldNumber, Min: &min, Max: &maxCredits, Integer: true},
			{Key: "costCentre", Label: "Cost centre", Type: FieldText},
		}}, nil
	}
	return Preset{}, fault.New(fault.Invalid, "no preset %q: one of %s (none: the default roles and settings)",
		name, strings.Join(PresetNames(), ", "))
}

// Role display names in the product's languages.
func adminNames() map[string]string { return access.DefaultNames(access.Admin) }

var (
	responderNames = map[string]string{"en": "Responder", "nb": "Innsatsperson", "sv": "Insatsperson", "da": "Indsatsperson",
		"fi": "Päivystäjä", "de": "Einsatzkraft", "nl": "Hulpverlener", "fr": "Intervenant", "es": "Personal de respuesta",
		"pl": "Osoba reagująca", "id": "Petugas tanggap", "ar": "مستجيب"}
	loneWorkerNames = map[string]string{"en": "Lone worker", "nb": "Alenearbeider", "sv": "Ensamarbetare", "da": "Alenearbejder",
		"fi": "Yksintyöskentelijä", "de": "Alleinarbeiter", "nl": "Alleenwerker", "fr": "Travailleur isolé",
		"es": "Trabajador aislado", "pl": "Pracownik samodzielny", "id": "Pekerja tunggal", "ar": "عامل منفرد"}
	coordinatorNames = access.DefaultNames(access.Coordinator)
	reporterNames    = access.DefaultNames(access.Reporter)
	technicianNames  = map[string]string{"en": "Technician", "nb": "Tekniker", "sv": "Tekniker", "da": "Tekniker",
		"fi": "Teknikko", "de": "Techniker", "nl": "Technicus", "fr": "Technicien", "es": "Técnico",
		"pl": "Technik", "id": "Teknisi", "ar": "فني"}
	standardNames = map[string]string{"en": "Standard", "nb": "Standard", "sv": "Standard", "da": "Standard",
		"fi": "Peruskäyttäjä", "de": "Standard", "nl": "Standaard", "fr": "Standard", "es": "Estándar",
		"pl": "Standardowy", "id": "Standar", "ar": "قياسي"}
)

// Settings are the settings an organisation provisioned with the preset
// starts with.
func (p Preset) Settings(lifetimeDays int) Settings {
	s := NewSettings(lifetimeDays)
	if p.Language != "" {
		s.DefaultLanguage = p.Language
	}
	if p.Region != "" {
		s.DefaultPhoneRegion = p.Region
	}
	s.CustomFields = append([]CustomField{}, p.Fields...)
	return s
}
