package ga4

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// debugAnswer is /debug/mp/collect's body.
type debugAnswer struct {
	ValidationMessages []validationMessage `json:"validationMessages"`
}

type validationMessage struct {
	FieldPath      string `json:"fieldPath"`
	Description    string `json:"description"`
	ValidationCode string `json:"validationCode"`
}

// classify maps one answer to the outcome of every event of its request.
//
// Production /mp/collect answers 2xx for any body, so 2xx is Delivered and
// a 4xx can only mean a wrong URL, measurement id or secret: Halt. The debug
// endpoint answers 200 with validationMessages, which name no event, so a
// non-empty list rejects the whole request (WholeBatch when it held several
// events, letting the dispatcher split to find the bad one).
func classify(status int, h http.Header, body []byte, now time.Time, debug bool, events int) conversions.Outcome {
	switch {
	case conversions.RetryableStatus(status):
		return conversions.Outcome{
			Class:      conversions.Retry,
			Reason:     fmt.Sprintf("ga4: http %d%s", status, ": "+conversions.Snippet(body)),
			RetryAfter: conversions.RetryAfter(h, now),
			Status:     status,
		}
	case status/100 != 2:
		return conversions.Outcome{
			Class:  conversions.Halt,
			Reason: fmt.Sprintf("ga4: http %d (wrong base_url, measurement_id or api_secret?)%s", status, ": "+conversions.Snippet(body)),
			Status: status,
		}
	case !debug:
		return conversions.Outcome{Class: conversions.Delivered, Status: status}
	}
	var a debugAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		// The debug endpoint always answers JSON; anything else is a proxy
		// or a wrong base_url in front of it.
		return conversions.Outcome{Class: conversions.Halt, Reason: fmt.Sprintf("ga4 debug: undecodable answer: %v: %s", err, conversions.Snippet(body)), Status: status}
	}
	if len(a.ValidationMessages) == 0 {
		return conversions.Outcome{Class: conversions.Delivered, Status: status}
	}
	msgs := make([]string, 0, len(a.ValidationMessages))
	for _, m := range a.ValidationMessages {
		msgs = append(msgs, fmt.Sprintf("%s %s: %s", m.ValidationCode, m.FieldPath, m.Description))
	}
	return conversions.Outcome{
		Class:      conversions.Rejected,
		Reason:     "ga4 debug: " + strings.Join(msgs, "; "),
		WholeBatch: events > 1,
		Status:     status,
	}
}
