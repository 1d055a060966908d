package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
)

// sweepCommand runs the sweep now through the running stack's Lambda Invoke
// API, as the schedule would, and prints what it did.
func sweepCommand(args []string) int {
	fs := flag.NewFlagSet("sweep", flag.ExitOnError)
	invokeURL := fs.String("invoke", "http://127.0.0.1:"+env("INVOKE_PORT", "3001"), "Lambda Invoke API")
	fs.Parse(args)
	payload, _ := json.Marshal(map[string]string{
		"scheduledTime": time.Now().UTC().Format(time.RFC3339), "executionId": "manual", "attempt": "1",
	})
	body, err := invoke(*invokeURL, "SweepFunction", payload, 6*time.Minute)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sweep: %v\n", err)
		return 1
	}
	var out bytes.Buffer
	if json.Indent(&out, body, "", "  ") != nil {
		out.Write(body)
	}
	fmt.Println(out.String())
	return 0
}
