package meta

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// graphAnswer is a Graph API answer: events_received on success, error on
// failure (docs/contracts/ad-platforms.md §2.6).
type graphAnswer struct {
	EventsReceived *int        `json:"events_received"`
	FBTraceID      string      `json:"fbtrace_id"`
	Error          *graphError `json:"error"`
}

type graphError struct {
	Message     string `json:"message"`
	Type        string `json:"type"`
	Code        int    `json:"code"`
	Subcode     int    `json:"error_subcode"`
	IsTransient bool   `json:"is_transient"`
	UserTitle   string `json:"error_user_title"`
	UserMsg     string `json:"error_user_msg"`
	FBTraceID   string `json:"fbtrace_id"`
}

// haltReason names the Graph error codes that mean the destination itself
// is broken (retrying cannot help and every queued conversion would fail the
// same way), "" for the others.
func haltReason(code, subcode int) string {
	switch {
	case code == 190:
		return "invalid or expired access token"
	case code == 102:
		return "session invalid"
	case code == 104:
		return "access token missing"
	case code == 10 || code >= 200 && code <= 299:
		return "permission missing"
	case code == 2635 || code == 12:
		return "deprecated api version"
	case code == 2500:
		return "unknown path, check base_url, api_version and pixel_id"
	case code == 803 || code == 100 && subcode == 33:
		return "unknown pixel or no permission on it"
	}
	return ""
}

// retryCode reports the Graph error codes that are transient (docs/contracts/ad-platforms.md §2.5,
// docs/contracts/ad-platforms.md §2.6, §1.3): rate limits and server-side hiccups.
func retryCode(code int) bool {
	switch code {
	case 1, 2, 4, 17, 341, 368, 613, 5000, 21009, 80003, 80004:
		return true
	}
	return false
}

// classify maps one HTTP answer to the outcome of every event it carried.
// Meta processes a request all or nothing, so one outcome fits all; sent is
// how many events the request held.
func classify(status int, header http.Header, body []byte, now time.Time, sent int) conversions.Outcome {
	o := conversions.Outcome{Status: status}
	var ans graphAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		// An HTML page or a truncated body comes from a proxy or load
		// balancer, not from Graph: transient unless the status says the
		// address itself is wrong.
		o.Reason = fmt.Sprintf("meta %d: not a graph answer: %s", status, conversions.Snippet(body))
		switch status {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			o.Class = conversions.Halt
		default:
			o.Class = conversions.Retry
			o.RetryAfter = conversions.RetryAfter(header, now)
		}
		return o
	}

	if e := ans.Error; e != nil {
		o.Reason = e.describe(status)
		switch {
		case haltReason(e.Code, e.Subcode) != "":
			o.Class = conversions.Halt
			o.Reason += " [" + haltReason(e.Code, e.Subcode) + "]"
		case retryCode(e.Code) || e.IsTransient || conversions.RetryableStatus(status):
			o.Class = conversions.Retry
			o.RetryAfter = conversions.RetryAfter(header, now)
		case status == http.StatusUnauthorized:
			o.Class = conversions.Halt
		default:
			o.Class = conversions.Rejected
			// Meta does not say which event failed: with several, the
			// dispatcher splits the batch to find it.
			o.WholeBatch = sent > 1
		}
		return o
	}

	switch {
	case conversions.RetryableStatus(status):
		o.Class = conversions.Retry
		o.RetryAfter = conversions.RetryAfter(header, now)
		o.Reason = fmt.Sprintf("meta %d: %s", status, conversions.Snippet(body))
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound:
		o.Class = conversions.Halt
		o.Reason = fmt.Sprintf("meta %d: %s", status, conversions.Snippet(body))
	case status < 200 || status > 299:
		o.Class = conversions.Rejected
		o.WholeBatch = sent > 1
		o.Reason = fmt.Sprintf("meta %d: %s", status, conversions.Snippet(body))
	case ans.EventsReceived == nil || *ans.EventsReceived != sent:
		// Meta counts every event it took. A short count is unexplained,
		// and re-sending is safe because event_id deduplicates.
		got := "no"
		if ans.EventsReceived != nil {
			got = fmt.Sprint(*ans.EventsReceived)
		}
		o.Class = conversions.Retry
		o.Reason = fmt.Sprintf("meta %d: events_received %s of %d (fbtrace_id %s)", status, got, sent, ans.FBTraceID)
	default:
		o.Class = conversions.Delivered
	}
	return o
}

// describe renders the error for a dead letter or a halt alert: Graph's own
// message first, then the user-facing title and text that say which
// parameter was wrong, then the trace id Meta support asks for.
func (e *graphError) describe(status int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "meta %d: code %d", status, e.Code)
	if e.Subcode != 0 {
		fmt.Fprintf(&b, "/%d", e.Subcode)
	}
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.UserTitle != "" {
		b.WriteString("; " + e.UserTitle)
	}
	if e.UserMsg != "" {
		b.WriteString(": " + e.UserMsg)
	}
	if e.FBTraceID != "" {
		b.WriteString(" (fbtrace_id " + e.FBTraceID + ")")
	}
	return b.String()
}
