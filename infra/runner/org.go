package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// orgCommand provisions an organisation through the running stack's Lambda
// Invoke API, exactly as
//
//	aws lambda invoke --endpoint-url http://127.0.0.1:3001 --function-name ProvisionFunction \
//	  --cli-binary-format raw-in-base64-out --payload '{"name":...}' out.json
//
// would, for machines without the AWS CLI.
func orgCommand(args []string) int {
	fs := flag.NewFlagSet("org", flag.ExitOnError)
	name := fs.String("name", "", "organisation name")
	admin := fs.String("admin", "", "first admin's email")
	first := fs.String("first-name", "", "first admin's first name")
	last := fs.String("last-name", "", "first admin's last name")
	language := fs.String("language", "", "default language (BCP 47, e.g. nb)")
	region := fs.String("region", "", "default phone region (ISO 3166, e.g. NO)")
	preset := fs.String("preset", "", "lone-worker, video-call, service-manager, health-services or none")
	invokeURL := fs.String("invoke", "http://127.0.0.1:"+env("INVOKE_PORT", "3001"), "Lambda Invoke API")
	fs.Parse(args)
	if *name == "" || *admin == "" {
		fmt.Fprintln(os.Stderr, "usage: runner org -name NAME -admin EMAIL [-language nb] [-region NO] [-preset lone-worker]")
		return 2
	}
	payload, _ := json.Marshal(map[string]string{
		"name": *name, "adminEmail": *admin, "adminFirstName": *first, "adminLastName": *last,
		"language": *language, "defaultPhoneRegion": *region, "preset": *preset,
	})
	body, err := invoke(*invokeURL, "ProvisionFunction", payload, 30*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "org: %v\n", err)
		return 1
	}
	var out struct {
		OrgID          string `json:"orgId"`
		InvitationID   string `json:"invitationId"`
		DeliveryStatus string `json:"deliveryStatus"`
	}
	json.Unmarshal(body, &out)
	fmt.Printf("organisation %s created; invitation %s to %s: %s\n", out.OrgID, out.InvitationID, *admin, out.DeliveryStatus)
	fmt.Printf("read the email at %s and open its link\n", env("SES_ENDPOINT", "http://127.0.0.1:8005"))
	return 0
}

// invoke calls a function of the running stack through its Lambda Invoke
// API and returns its result.
func invoke(invokeURL, function string, payload []byte, timeout time.Duration) ([]byte, error) {
	client := &http.Client{Timeout: timeout}
	res, err := client.Post(invokeURL+"/2015-03-31/functions/"+function+"/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("is the stack running (make dev)? %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.Header.Get("X-Amz-Function-Error") != "" || res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s failed: %s", function, body)
	}
	return body, nil
}
