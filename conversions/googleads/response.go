package googleads

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

// tooRecentWait is Google's documented delay for TOO_RECENT_* ("Retry after
// 6 hours have passed").
const tooRecentWait = 6 * time.Hour

// uploadResponse is the HTTP 200 answer. Failed rows come back as {} in
// results at their position, and their errors in partialFailureError.
type uploadResponse struct {
	PartialFailureError *rpcStatus        `json:"partialFailureError"`
	Results             []json.RawMessage `json:"results"`
}

// rpcErrorBody is the answer to a refused request (google.rpc.Status).
type rpcErrorBody struct {
	Error *rpcStatus `json:"error"`
}

type rpcStatus struct {
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Status  string      `json:"status"`
	Details []rpcDetail `json:"details"`
}

// rpcDetail is one entry of Status.details: a GoogleAdsFailure (errors) or
// a google.rpc.BadRequest (fieldViolations, for JSON the API cannot parse).
type rpcDetail struct {
	Type            string           `json:"@type"`
	Errors          []adsError       `json:"errors"`
	FieldViolations []fieldViolation `json:"fieldViolations"`
}

type fieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

type adsError struct {
	// ErrorCode is a oneof: {"conversionUploadError": "ORDER_ID_ALREADY_IN_USE"}.
	ErrorCode map[string]json.RawMessage `json:"errorCode"`
	Message   string                     `json:"message"`
	Location  struct {
		FieldPathElements []struct {
			FieldName string `json:"fieldName"`
			Index     *int   `json:"index"`
		} `json:"fieldPathElements"`
	} `json:"location"`
	Details struct {
		QuotaErrorDetails struct {
			RetryDelay string `json:"retryDelay"` // a proto Duration, "30s"
		} `json:"quotaErrorDetails"`
	} `json:"details"`
}

// code returns the error's oneof name and enum value.
func (e adsError) code() (kind, value string) {
	for k, raw := range e.ErrorCode {
		var v string
		if json.Unmarshal(raw, &v) != nil {
			v = string(raw)
		}
		return k, v
	}
	return "", ""
}

// row is the conversions[] index the error points at, or -1.
func (e adsError) row() int {
	els := e.Location.FieldPathElements
	if len(els) > 0 && els[0].FieldName == "conversions" && els[0].Index != nil {
		return *els[0].Index
	}
	return -1
}

func (e adsError) reason() string {
	kind, value := e.code()
	switch {
	case kind == "" && e.Message == "":
		// A dead letter must say something: the fuzzer found errors with neither.
		return "google ads error without a code or message"
	case kind == "":
		return e.Message
	case e.Message == "":
		return kind + "." + value
	}
	return kind + "." + value + ": " + e.Message
}

// outcome classifies one GoogleAdsError (docs/contracts/ad-platforms.md §3.6, §1.3).
func (e adsError) outcome() conversions.Outcome {
	kind, value := e.code()
	o := conversions.Outcome{Class: conversions.Rejected, Reason: e.reason()}
	switch value {
	case "ORDER_ID_ALREADY_IN_USE", "CLICK_CONVERSION_ALREADY_EXISTS",
		"DUPLICATE_ORDER_ID", "DUPLICATE_CLICK_CONVERSION_IN_REQUEST":
		// Google already has it: an idempotent re-send is a delivery.
		return conversions.Outcome{Class: conversions.Delivered}
	case "TOO_RECENT_EVENT", "TOO_RECENT_CONVERSION_ACTION":
		o.Class, o.RetryAfter = conversions.Retry, tooRecentWait
		return o
	case "CONCURRENT_MODIFICATION", "RESOURCE_EXHAUSTED", "RESOURCE_TEMPORARILY_EXHAUSTED",
		"INTERNAL_ERROR", "TRANSIENT_ERROR", "DEADLINE_EXCEEDED":
		o.Class = conversions.Retry
		o.RetryAfter = parseDuration(e.Details.QuotaErrorDetails.RetryDelay)
		return o
	case "UNSUPPORTED_VERSION", "INVALID_CUSTOMER_ID", "DEVELOPER_TOKEN_PARAMETER_MISSING",
		"LOGIN_CUSTOMER_ID_PARAMETER_MISSING", "CLOUD_PROJECT_NOT_FOUND", "ACCESS_PROHIBITED",
		// Account set-up problems: the documentation calls them permanent, but they
		// fail every conversion alike until someone fixes the account or
		// the configured action, so halting keeps the queue for after.
		"NO_CONVERSION_ACTION_FOUND", "INVALID_CONVERSION_ACTION_TYPE",
		"CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS",
		"CUSTOMER_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS",
		"CUSTOMER_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS":
		o.Class = conversions.Halt
		return o
	}
	switch kind {
	case "authenticationError", "authorizationError", "headerError":
		o.Class = conversions.Halt
	case "internalError":
		o.Class = conversions.Retry
	}
	return o
}

// worse merges two outcomes for one row: the more severe class wins
// (Halt > Rejected > Retry > Delivered), reasons accumulate.
func worse(a, b conversions.Outcome) conversions.Outcome {
	rank := func(c conversions.Class) int {
		switch c {
		case conversions.Halt:
			return 3
		case conversions.Rejected:
			return 2
		case conversions.Retry:
			return 1
		}
		return 0
	}
	w, other := a, b
	if rank(b.Class) > rank(a.Class) {
		w, other = b, a
	}
	if other.Reason != "" && other.Reason != w.Reason && w.Class != conversions.Delivered {
		if w.Reason == "" {
			w.Reason = other.Reason
		} else {
			w.Reason += "; " + other.Reason
		}
	}
	if other.RetryAfter > w.RetryAfter && w.Class == conversions.Retry {
		w.RetryAfter = other.RetryAfter
	}
	return w
}

// classifyOK reads an HTTP 200 answer into one outcome per sent row.
func classifyOK(body []byte, n int, validateOnly bool) []conversions.Outcome {
	const status = http.StatusOK
	var r uploadResponse
	if err := json.Unmarshal(body, &r); err != nil {
		// Re-sending is safe (orderId dedups), losing the conversion is not.
		return conversions.Outcomes(n, conversions.Outcome{Class: conversions.Retry, Reason: "unparseable HTTP 200 answer: " + err.Error(), Status: status})
	}
	out := conversions.Outcomes(n, conversions.Outcome{Class: conversions.Delivered, Status: status})
	// explained: rows an error speaks for. Results are absent in
	// validate-only mode, where every row without an error passed.
	explained := make([]bool, n)
	haveResults := len(r.Results) == n && !validateOnly
	emptyRow := func(i int) bool { // Google's placeholder for a failed row
		if !haveResults {
			return true
		}
		s := strings.TrimSpace(string(r.Results[i]))
		return s == "{}" || s == "null"
	}

	if pf := r.PartialFailureError; pf != nil {
		var loose []adsError // errors that name no row
		for _, d := range pf.Details {
			for _, e := range d.Errors {
				i := e.row()
				if i < 0 || i >= n {
					loose = append(loose, e)
					continue
				}
				o := e.outcome()
				o.Status = status
				if explained[i] {
					o = worse(out[i], o)
				}
				out[i], explained[i] = o, true
			}
		}
		if len(loose) == 0 && !anyTrue(explained) {
			loose = append(loose, adsError{Message: "partial failure: " + pf.Message})
		}
		// An error without a row applies to every failed row it could be.
		located := append([]bool(nil), explained...)
		for _, e := range loose {
			o := e.outcome()
			o.Status = status
			for i := range out {
				if located[i] || !emptyRow(i) {
					continue
				}
				oi := o
				if explained[i] {
					oi = worse(out[i], o)
				}
				out[i], explained[i] = oi, true
			}
		}
	}
	if haveResults {
		for i := range out {
			if !explained[i] && emptyRow(i) {
				out[i] = conversions.Outcome{Class: conversions.Rejected, Reason: "empty result without an error", Status: status}
			}
		}
	}
	return out
}

var violationRow = regexp.MustCompile(`^conversions\[(\d+)\]`)

// classifyError reads a refused request (any status but 200, after the
// client's one token refresh on 401).
func classifyError(status int, header http.Header, body []byte, now time.Time, n int) []conversions.Outcome {
	var eb rpcErrorBody
	_ = json.Unmarshal(body, &eb) // a non-JSON body (a proxy's HTML) still has a status
	var errs []adsError
	var violations []fieldViolation
	reason := fmt.Sprintf("HTTP %d", status)
	if st := eb.Error; st != nil {
		if st.Status != "" {
			reason += " " + st.Status
		}
		for _, d := range st.Details {
			errs = append(errs, d.Errors...)
			violations = append(violations, d.FieldViolations...)
		}
		switch {
		case len(errs) > 0:
			reason += ": " + errs[0].reason()
		case st.Message != "":
			reason += ": " + st.Message
		}
	}
	whole := func(c conversions.Class) []conversions.Outcome {
		return conversions.Outcomes(n, conversions.Outcome{Class: c, Reason: reason, Status: status})
	}

	if conversions.RetryableStatus(status) {
		o := conversions.Outcome{Class: conversions.Retry, Reason: reason, Status: status,
			RetryAfter: conversions.RetryAfter(header, now)}
		if o.RetryAfter == 0 {
			for _, e := range errs {
				o.RetryAfter = max(o.RetryAfter, parseDuration(e.Details.QuotaErrorDetails.RetryDelay))
			}
		}
		return conversions.Outcomes(n, o)
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		// Bad credentials, no access to the account, or a version path
		// that no longer exists: nothing a retry fixes.
		return whole(conversions.Halt)
	}
	for _, e := range errs {
		if e.outcome().Class == conversions.Halt {
			return whole(conversions.Halt)
		}
	}

	// Errors that name their rows: those rows are refused; the rest were
	// not processed because of them and can go again without them.
	out := make([]conversions.Outcome, n)
	located := make([]bool, n)
	mark := func(i int, o conversions.Outcome) {
		o.Status = status
		if located[i] {
			o = worse(out[i], o)
		}
		out[i], located[i] = o, true
	}
	for _, e := range errs {
		if i := e.row(); i >= 0 && i < n {
			mark(i, e.outcome())
		}
	}
	for _, v := range violations {
		if m := violationRow.FindStringSubmatch(v.Field); m != nil {
			if i, err := strconv.Atoi(m[1]); err == nil && i < n {
				mark(i, conversions.Outcome{Class: conversions.Rejected, Reason: "invalid value at " + v.Field + ": " + v.Description})
			}
		}
	}
	if !anyTrue(located) {
		// One bad conversion may have sunk the whole request: let the
		// dispatcher split the batch to find it.
		o := conversions.Outcome{Class: conversions.Rejected, Reason: reason, Status: status, WholeBatch: n > 1}
		return conversions.Outcomes(n, o)
	}
	for i := range out {
		if !located[i] {
			out[i] = conversions.Outcome{Class: conversions.Retry, Reason: "not processed: " + reason, Status: status}
		}
	}
	return out
}

// oauthRefreshable reports whether a 401 is about the access token (so a
// fresh one may cure it) rather than the account or developer token.
func oauthRefreshable(body []byte) bool {
	var eb rpcErrorBody
	if json.Unmarshal(body, &eb) != nil || eb.Error == nil {
		return true
	}
	for _, d := range eb.Error.Details {
		for _, e := range d.Errors {
			switch _, v := e.code(); v {
			case "OAUTH_TOKEN_INVALID", "OAUTH_TOKEN_EXPIRED", "OAUTH_TOKEN_HEADER_INVALID",
				"OAUTH_TOKEN_REVOKED", "OAUTH_TOKEN_DISABLED", "AUTHENTICATION_ERROR":
			default:
				return false
			}
		}
	}
	return true
}

// parseDuration reads a proto Duration in JSON ("30s", "1.5s"); 0 if absent.
func parseDuration(s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0
	}
	return d
}

func anyTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}
