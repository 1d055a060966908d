package e2e

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"onboarding/infra/testenv"
)

// An organisation provisioned with the health-services preset, through the
// real binaries: its roles and fields are the preset's; an invitation for
// therapy without the description for the therapist is refused naming it,
// with it accepted; the roster template has the fields' columns and the
// roles by display name. An unknown preset is refused naming the valid ones.
func TestPresetAndConditionalFieldsThroughRunner(t *testing.T) {
	s := Stack(t)
	id := testenv.RandomID()
	adminEmail := "ada-" + id + "@example.no"

	payload, _ := json.Marshal(map[string]string{"name": "Helse " + id, "adminEmail": adminEmail, "preset": "health-service"})
	status, out, fnErr := invoke(t, s.InvokeURL, "ProvisionFunction", payload)
	if status != 200 || !fnErr || !bytes.Contains(out, []byte("lone-worker, video-call, service-manager, health-services, none")) {
		t.Fatalf("unknown preset: %d %v %s", status, fnErr, out)
	}
	payload, _ = json.Marshal(map[string]string{"name": "Helse " + id, "adminEmail": adminEmail, "adminFirstName": "Ada",
		"preset": "health-services", "language": "nb"})
	status, out, fnErr = invoke(t, s.InvokeURL, "ProvisionFunction", payload)
	var prov struct {
		OrgID string `json:"orgId"`
	}
	if json.Unmarshal(out, &prov); status != 200 || fnErr || prov.OrgID == "" {
		t.Fatalf("provision: %d %s", status, out)
	}
	orgID := prov.OrgID
	admin := signUp(t, s, adminEmail, "admin passphrase long", 1)

	var st struct {
		DefaultLanguage string `json:"defaultLanguage"`
		CustomFields    []struct {
			Key          string            `json:"key"`
			Type         string            `json:"type"`
			RequiredWhen map[string]string `json:"requiredWhen"`
		} `json:"customFields"`
	}
	mustStatus(t, admin.Call("GET", "/orgs/"+orgID+"/settings", nil, &st), 200)
	if st.DefaultLanguage != "nb" || len(st.CustomFields) != 4 || st.CustomFields[0].Type != "multiselect" ||
		st.CustomFields[1].RequiredWhen["field"] != "services" || st.CustomFields[1].RequiredWhen["equals"] != "therapy" {
		t.Fatalf("settings %+v", st)
	}

	invitee := "kari-" + id + "@example.no"
	var p struct {
		Errors []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": invitee, "role": "standard",
		"attributes": map[string]any{"services": []string{"therapy", "homeCare"}, "credits": 12}}, &p), 422)
	if len(p.Errors) != 1 || p.Errors[0].Field != "attributes.therapistDescription" ||
		p.Errors[0].Message != "therapistDescription is required when services includes therapy" {
		t.Fatalf("problem %+v", p)
	}
	var inv struct {
		Attributes map[string]any `json:"attributes"`
	}
	mustStatus(t, admin.Call("POST", "/orgs/"+orgID+"/invitations", map[string]any{"email": invitee, "role": "standard",
		"attributes": map[string]any{"services": []string{"homeCare", "therapy"}, "therapistDescription": "Ryggsmerter", "credits": 12}}, &inv), 201)
	if got, _ := json.Marshal(inv.Attributes["services"]); string(got) != `["therapy","homeCare"]` || inv.Attributes["credits"] != "12" {
		t.Fatalf("attributes %+v", inv.Attributes)
	}

	res, body := admin.download("/orgs/" + orgID + "/imports/template")
	if res.StatusCode != 200 {
		t.Fatalf("template %d", res.StatusCode)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	header, _ := f.GetRows("Brukere")
	if len(header) != 1 || !slices.Contains(header[0], "Services") || !slices.Contains(header[0], "Description for the therapist") {
		t.Fatalf("header %v", header)
	}
	lists, _ := f.GetCols("Lister")
	var roles bool
	for _, col := range lists {
		if strings.TrimRight(strings.Join(col, ","), ",") == "Administrator,Standard" {
			roles = true
		}
	}
	help, _ := f.GetCols("Veiledning")
	if !roles || !strings.Contains(strings.Join(help[0], "\n"), "må fylles ut når Services inneholder therapy") {
		t.Fatalf("lists %v, instructions %v", lists, help)
	}
}
