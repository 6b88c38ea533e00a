package tiktok

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// TikTok business codes (docs/contracts/ad-platforms.md §4.4). The table is known only from
// third-party code, so unknown codes fall to Rejected, which dead-letters
// them for a human rather than retrying forever.
const (
	codeOK             = 0
	codePartialSuccess = 20001 // RS treats it as OK; the body names no rows
	codeNoPermission   = 40001 // token cannot operate this pixel
	codeInvalidParam   = 40002 // payload validation ("Batch.N.field: …")
	codeRateLimited    = 40100 // QPS limit
	codeBadToken       = 40105 // token incorrect or revoked
)

// response is the envelope of every TikTok answer.
type response struct {
	Code      *int   `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

// classify turns one HTTP answer to a request of n events into the outcome
// of each of them: TikTok reports no per-event results, so one outcome
// covers the request.
func classify(status int, header http.Header, body []byte, now time.Time, n int) conversions.Outcome {
	o := conversions.Outcome{Status: status}
	if conversions.RetryableStatus(status) {
		o.Class = conversions.Retry
		o.RetryAfter = conversions.RetryAfter(header, now)
		o.Reason = fmt.Sprintf("http %d: %s", status, conversions.Snippet(body))
		return o
	}
	var r response
	parsed := json.Unmarshal(body, &r) == nil && r.Code != nil
	if status >= 200 && status < 300 {
		if !parsed {
			// A 200 without TikTok's envelope (a proxy page, a cut body)
			// says nothing about delivery; re-sending is safe because
			// TikTok deduplicates on event + event_id.
			o.Class = conversions.Retry
			o.Reason = fmt.Sprintf("http %d without a tiktok code: %s", status, conversions.Snippet(body))
			return o
		}
		return byCode(o, r, header, now, n)
	}
	if parsed && *r.Code != codeOK {
		return byCode(o, r, header, now, n)
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		o.Class = conversions.Halt
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		// TikTok answers every business error with 200, so a 404 means
		// the URL (base_url or api_version) is wrong: configuration.
		o.Class = conversions.Halt
	default:
		o.Class = conversions.Rejected
		o.WholeBatch = n > 1
	}
	o.Reason = fmt.Sprintf("http %d: %s", status, conversions.Snippet(body))
	return o
}

// byCode classifies a TikTok business code.
func byCode(o conversions.Outcome, r response, header http.Header, now time.Time, n int) conversions.Outcome {
	code := *r.Code
	switch {
	case code == codeOK || code == codePartialSuccess:
		o.Class = conversions.Delivered
		return o
	case code == codeRateLimited || code >= 50000 && code < 60000:
		// 5xxxx are TikTok's internal errors (retryable, unconfirmed).
		o.Class = conversions.Retry
		o.RetryAfter = conversions.RetryAfter(header, now)
	case haltCode(code, r.Message):
		o.Class = conversions.Halt
	default:
		// The request is refused as a whole; with several events the
		// dispatcher splits the batch to find the bad one.
		o.Class = conversions.Rejected
		o.WholeBatch = n > 1
	}
	o.Reason = fmt.Sprintf("tiktok code %d: %s", code, r.Message)
	if r.RequestID != "" {
		o.Reason += " (request_id " + r.RequestID + ")"
	}
	return o
}

// haltCode reports a code that no event of this destination can pass:
// auth (40105 and, by inference, the rest of TikTok's 401xx family except
// the 40100 rate limit), no permission on the pixel (40001), and a 40002
// about the pixel itself rather than a "Batch.N…" event field.
func haltCode(code int, message string) bool {
	switch {
	case code == codeNoPermission, code == codeBadToken:
		return true
	case code > codeRateLimited && code < 40200:
		return true
	case code == codeInvalidParam:
		m := strings.ToLower(message)
		return !strings.HasPrefix(m, "batch.") && (strings.Contains(m, "event_source_id") || strings.Contains(m, "pixel"))
	}
	return false
}
