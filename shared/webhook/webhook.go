// Package webhook is the format of partner webhooks and the rules for their
// addresses: Standard Webhooks secrets, signing and headers; which URLs a
// partner may save and which addresses count as public. It sends nothing
// (shared/poster does); what is sent, to whom and when is the partner
// package's business.
package webhook

import (
	"errors"
	"time"
)

// Timeout is how long a webhook may take to answer.
const Timeout = 15 * time.Second

// ErrPrivateAddress is a webhook host that resolves inside the network.
var ErrPrivateAddress = errors.New("the webhook's address is not a public one")
