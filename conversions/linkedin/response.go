package linkedin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// apiError is LinkedIn's error body, e.g.
// {"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"…"}.
type apiError struct {
	Status           int    `json:"status"`
	ServiceErrorCode int    `json:"serviceErrorCode"`
	Code             string `json:"code"`
	Message          string `json:"message"`
}

// batchResult is a BATCH_CREATE answer: one status per element, in order.
type batchResult struct {
	Elements []struct {
		Status int       `json:"status"`
		Error  *apiError `json:"error"`
	} `json:"elements"`
}

// maxReason bounds the platform text kept in an Outcome.Reason.
const maxReason = 512

// classify turns LinkedIn's answer to n sent elements into n outcomes.
// A batch is all-or-nothing on LinkedIn: a 4xx refuses every element. When
// the error names the bad rows ("Index: N, ERROR :: …"), those are
// rejected and the others are retried, to be re-sent without them (as
// RudderStack does). When it names none, every row is marked WholeBatch
// and the dispatcher splits the batch to find the culprit.
func classify(status int, h http.Header, body []byte, now time.Time, n int) []conversions.Outcome {
	if status >= 200 && status < 300 {
		return classifyAccepted(status, h, body, now, n)
	}
	var ae apiError
	_ = json.Unmarshal(body, &ae) // a non-JSON body still has a status
	reason := errorReason(status, &ae, body)
	base := conversions.Outcome{Status: status, Reason: reason}
	switch {
	case conversions.RetryableStatus(status):
		base.Class = conversions.Retry
		base.RetryAfter = conversions.RetryAfter(h, now)
		return conversions.Outcomes(n, base)
	case haltStatus(status, &ae):
		base.Class = conversions.Halt
		return conversions.Outcomes(n, base)
	}
	base.Class = conversions.Rejected
	if n == 1 {
		return []conversions.Outcome{base}
	}
	named := failedIndices(ae.Message, n)
	if len(named) == 0 {
		// Nothing points at a culprit: every row may be the bad one.
		base.WholeBatch = true
		return conversions.Outcomes(n, base)
	}
	// The dispatcher dead-letters every Rejected row unless all of them are
	// WholeBatch, so the innocent rows are Retry, never Rejected.
	out := conversions.Outcomes(n, conversions.Outcome{
		Class:  conversions.Retry,
		Reason: "linkedin refused the batch for other elements: " + reason,
		Status: status,
	})
	for i, msg := range named {
		out[i] = conversions.Outcome{
			Class:  conversions.Rejected,
			Reason: truncate(fmt.Sprintf("linkedin %d: %s", status, msg)),
			Status: status,
		}
	}
	return out
}

// haltStatus reports answers that every conversion of this destination
// would get until someone fixes the configuration: the token (401: expired
// or revoked; there is no refresh token in the config), permissions (403),
// the endpoint (404: base_url), the version (426: sunset) and the
// conversion rule (400 "Conversion's method should be CONVERSIONS_API":
// conversion_urn names a rule that does not exist or is not an API rule).
func haltStatus(status int, ae *apiError) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUpgradeRequired:
		return true
	case http.StatusBadRequest:
		return strings.Contains(ae.Message, "CONVERSIONS_API")
	}
	return false
}

func classifyAccepted(status int, h http.Header, body []byte, now time.Time, n int) []conversions.Outcome {
	out := conversions.Outcomes(n, conversions.Outcome{Class: conversions.Delivered, Status: status})
	if n == 1 {
		return out // a single create answers 201 with no body
	}
	var br batchResult
	if err := json.Unmarshal(body, &br); err != nil {
		// The request was accepted as a whole; the per-row detail is
		// missing, and a batch fails as a whole when any element does.
		return out
	}
	for i, el := range br.Elements {
		if i >= n {
			break
		}
		switch {
		case el.Status == 0 || el.Status/100 == 2 || el.Status == http.StatusConflict:
			// 409 is a duplicate: LinkedIn already has this eventId.
			continue
		case conversions.RetryableStatus(el.Status):
			out[i] = conversions.Outcome{
				Class:      conversions.Retry,
				Reason:     elementReason(el.Status, el.Error),
				RetryAfter: conversions.RetryAfter(h, now),
				Status:     status,
			}
		default:
			out[i] = conversions.Outcome{Class: conversions.Rejected, Reason: elementReason(el.Status, el.Error), Status: status}
		}
	}
	return out
}

func elementReason(status int, ae *apiError) string {
	if ae == nil {
		return fmt.Sprintf("linkedin element %d", status)
	}
	return "element " + errorReason(status, ae, nil)
}

// errorReason is "linkedin <status> <code>: <message>" from what the body has.
func errorReason(status int, ae *apiError, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "linkedin %d", status)
	if ae.Code != "" {
		b.WriteString(" " + ae.Code)
	}
	switch msg := strings.TrimSpace(ae.Message); {
	case msg != "":
		b.WriteString(": " + msg)
	case ae.Code == "" && len(strings.TrimSpace(string(body))) > 0:
		// An error page may echo the request URL: Snippet redacts it.
		b.WriteString(": " + conversions.Snippet(body))
	case ae.Code == "":
		b.WriteString(": " + http.StatusText(status))
	}
	if status == http.StatusUpgradeRequired {
		b.WriteString(" (pin a newer linkedin version)")
	}
	return truncate(b.String())
}

var (
	// "Index: 3, ERROR :: /user/userIds :: …" starts a 422's row errors;
	// further "ERROR :: …" lines belong to the same row.
	indexLine = regexp.MustCompile(`^Index: (\d+), (.*)$`)
	// "… indices [0, 2] (0-indexed)" in a 400.
	indicesList = regexp.MustCompile(`indices \[([\d,\s]+)\]`)
)

// failedIndices maps the element positions a LinkedIn error names to their
// error text. Positions outside 0..n-1 are ignored.
func failedIndices(msg string, n int) map[int]string {
	named := make(map[int]string)
	cur := -1
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if m := indexLine.FindStringSubmatch(line); m != nil {
			cur = -1
			if i, err := strconv.Atoi(m[1]); err == nil && i >= 0 && i < n {
				cur = i
				named[i] = joinReason(named[i], m[2])
			}
			continue
		}
		if cur >= 0 && strings.HasPrefix(line, "ERROR ::") {
			named[cur] = joinReason(named[cur], line)
		}
	}
	if m := indicesList.FindStringSubmatch(msg); m != nil {
		for _, f := range strings.Split(m[1], ",") {
			if i, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && i >= 0 && i < n {
				named[i] = joinReason(named[i], msg)
			}
		}
	}
	return named
}

func joinReason(have, add string) string {
	if have == "" {
		return add
	}
	return have + "; " + add
}

func truncate(s string) string {
	if len(s) <= maxReason {
		return s
	}
	// Cut on a rune boundary so the reason stays valid UTF-8.
	cut := maxReason
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
