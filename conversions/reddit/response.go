package reddit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// answer is every JSON shape Reddit answers with (docs/contracts/ad-platforms.md §6.4):
//
//	200 {"data":{"message":"Successfully processed N conversion events."}}
//	400 {"message":"There were 1 invalid conversion events. None were processed.",
//	     "invalid_events":[{"error_message":"…","event":{…echo…}}]}
//	401 {"success":false,"error":{"reason":"UNAUTHORIZED","explanation":"…"}}
//
// and 401 "Authorization Required" as plain text.
type answer struct {
	Message       string         `json:"message"`
	Data          *answerData    `json:"data"`
	Error         *answerError   `json:"error"`
	InvalidEvents []invalidEvent `json:"invalid_events"`
}

type answerData struct {
	Message string `json:"message"`
}

type answerError struct {
	Reason      string `json:"reason"`
	Explanation string `json:"explanation"`
}

type invalidEvent struct {
	ErrorMessage string `json:"error_message"`
	Event        struct {
		Metadata struct {
			ConversionID string `json:"conversion_id"`
		} `json:"metadata"`
	} `json:"event"`
}

// classify turns Reddit's answer into one outcome per sent event.
func classify(status int, header http.Header, raw []byte, now time.Time, sent []event) []conversions.Outcome {
	n := len(sent)
	var a answer
	_ = json.Unmarshal(raw, &a) // plain-text bodies leave a empty; text() falls back to raw
	text := a.text(raw)

	switch {
	case status >= 200 && status < 300:
		// AP treats "processed 0" as a failure: Reddit took the request
		// but none of the events.
		if p, ok := processed(text); ok && p == 0 {
			return conversions.Outcomes(n, conversions.Outcome{
				Class: conversions.Rejected, Reason: "reddit processed 0 conversion events: " + text,
				WholeBatch: n > 1, Status: status,
			})
		}
		return conversions.Outcomes(n, conversions.Outcome{Class: conversions.Delivered, Status: status})

	case conversions.RetryableStatus(status):
		return conversions.Outcomes(n, conversions.Outcome{
			Class: conversions.Retry, Reason: reason(status, text),
			RetryAfter: conversions.RetryAfter(header, now), Status: status,
		})

	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		// The conversion token is invalid or revoked (it never expires, so
		// there is nothing to refresh). A 403 may also name a field of the
		// wrong JSON type; that is a bug in this client that every event
		// would hit, so halting is right for it too.
		return conversions.Outcomes(n, conversions.Outcome{Class: conversions.Halt, Reason: reason(status, text), Status: status})

	case status == http.StatusNotFound:
		return conversions.Outcomes(n, conversions.Outcome{
			Class: conversions.Halt, Reason: reason(status, "unknown pixel or api version: "+text), Status: status,
		})

	case status == http.StatusGone, status == http.StatusUpgradeRequired:
		return conversions.Outcomes(n, conversions.Outcome{
			Class: conversions.Halt, Reason: reason(status, "api version retired: "+text), Status: status,
		})
	}

	// Any other 4xx: Reddit refuses the whole request for one bad event
	// ("None were processed"), so in a batch every event is marked
	// WholeBatch for the dispatcher to split. The reason names the
	// culprit's own error where the echo identifies it.
	perEvent := make(map[string]string, len(a.InvalidEvents))
	for _, ie := range a.InvalidEvents {
		if id := ie.Event.Metadata.ConversionID; id != "" {
			perEvent[id] = ie.ErrorMessage
		}
	}
	out := make([]conversions.Outcome, n)
	for i, ev := range sent {
		r := reason(status, text)
		if msg, ok := perEvent[ev.Metadata.ConversionID]; ok {
			r = reason(status, "invalid event: "+msg)
		} else if first := a.firstInvalid(); n > 1 && first != "" {
			r = reason(status, text+" (first: "+first+")")
		}
		out[i] = conversions.Outcome{Class: conversions.Rejected, Reason: r, WholeBatch: n > 1, Status: status}
	}
	return out
}

// text is the most specific message of an answer, or the raw body.
func (a answer) text(raw []byte) string {
	switch {
	case a.Error != nil && a.Error.Explanation != "":
		return a.Error.Reason + ": " + a.Error.Explanation
	case a.Error != nil && a.Error.Reason != "":
		return a.Error.Reason
	case a.Message != "":
		return a.Message
	case a.Data != nil && a.Data.Message != "":
		return a.Data.Message
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return "" // reason() names the status instead
	}
	return conversions.Snippet(raw)
}

func (a answer) firstInvalid() string {
	if len(a.InvalidEvents) == 0 {
		return ""
	}
	return a.InvalidEvents[0].ErrorMessage
}

// processed reads N from "Successfully processed N conversion events."
func processed(msg string) (int, bool) {
	_, rest, ok := strings.Cut(msg, "processed ")
	if !ok {
		return 0, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	p, err := strconv.Atoi(rest[:end])
	return p, err == nil
}

func reason(status int, text string) string {
	if text == "" {
		text = http.StatusText(status)
	}
	return fmt.Sprintf("reddit: HTTP %d: %s", status, text)
}
