package googleadsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// ErrorCode is one GoogleAdsError code: Kind is the ErrorCode oneof field
// ("conversionUploadError", "authenticationError", …), Value its enum name.
type ErrorCode struct {
	Kind  string
	Value string
}

// UploadError is a conversionUploadError code.
func UploadError(value string) ErrorCode {
	return ErrorCode{Kind: "conversionUploadError", Value: value}
}

func (c ErrorCode) String() string { return c.Kind + "." + c.Value }

// pathElement is one step of ErrorLocation.fieldPathElements; index < 0
// means none. Field names are snake_case, as Google reports them.
type pathElement struct {
	name  string
	index int
}

// adsErr is one GoogleAdsError the fake answers.
type adsErr struct {
	code    ErrorCode
	message string
	trigger string
	path    []pathElement
}

// at reports the error's location in Google's message style:
// "conversions[1].conversion_action".
func (e adsErr) at() string {
	var b strings.Builder
	for i, p := range e.path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p.name)
		if p.index >= 0 {
			b.WriteString("[" + strconv.Itoa(p.index) + "]")
		}
	}
	return b.String()
}

// row is the conversions[] index the error points at, or -1.
func (e adsErr) row() int {
	if len(e.path) > 0 && e.path[0].name == "conversions" {
		return e.path[0].index
	}
	return -1
}

// The JSON shapes of google.rpc.Status and GoogleAdsFailure.
type (
	jsonStatus struct {
		Code    int          `json:"code"`
		Message string       `json:"message"`
		Status  string       `json:"status,omitempty"`
		Details []jsonDetail `json:"details,omitempty"`
	}
	jsonDetail struct {
		Type            string          `json:"@type"`
		Errors          []jsonAdsError  `json:"errors,omitempty"`
		RequestID       string          `json:"requestId,omitempty"`
		FieldViolations []jsonViolation `json:"fieldViolations,omitempty"`
	}
	jsonAdsError struct {
		ErrorCode map[string]string `json:"errorCode"`
		Message   string            `json:"message"`
		Trigger   *jsonValue        `json:"trigger,omitempty"`
		Location  *jsonLocation     `json:"location,omitempty"`
		Details   *jsonErrorDetails `json:"details,omitempty"`
	}
	jsonValue struct {
		StringValue string `json:"stringValue"`
	}
	jsonLocation struct {
		FieldPathElements []jsonPathElement `json:"fieldPathElements"`
	}
	jsonPathElement struct {
		FieldName string `json:"fieldName"`
		Index     *int   `json:"index,omitempty"`
	}
	jsonErrorDetails struct {
		QuotaErrorDetails *jsonQuotaDetails `json:"quotaErrorDetails,omitempty"`
	}
	jsonQuotaDetails struct {
		RateScope  string `json:"rateScope"`
		RateName   string `json:"rateName"`
		RetryDelay string `json:"retryDelay"`
	}
	jsonViolation struct {
		Field       string `json:"field"`
		Description string `json:"description"`
	}
)

func failureType(version string) string {
	return "type.googleapis.com/google.ads.googleads." + version + ".errors.GoogleAdsFailure"
}

func (e adsErr) json() jsonAdsError {
	j := jsonAdsError{ErrorCode: map[string]string{e.code.Kind: e.code.Value}, Message: e.message}
	if e.trigger != "" {
		j.Trigger = &jsonValue{StringValue: e.trigger}
	}
	if len(e.path) > 0 {
		loc := &jsonLocation{}
		for _, p := range e.path {
			el := jsonPathElement{FieldName: p.name}
			if p.index >= 0 {
				i := p.index
				el.Index = &i
			}
			loc.FieldPathElements = append(loc.FieldPathElements, el)
		}
		j.Location = loc
	}
	return j
}

// failure is the GoogleAdsFailure detail holding errs.
func failure(version, requestID string, errs []adsErr) jsonDetail {
	d := jsonDetail{Type: failureType(version), RequestID: requestID}
	for _, e := range errs {
		d.Errors = append(d.Errors, e.json())
	}
	return d
}

// rpcBody is an RPC-level error answer: {"error": Status}; error.code is
// the HTTP status on the REST surface.
func rpcBody(httpStatus int, grpcStatus, message string, details ...jsonDetail) map[string]jsonStatus {
	return map[string]jsonStatus{"error": {Code: httpStatus, Message: message, Status: grpcStatus, Details: details}}
}

// partialMessage joins row errors the way partialFailureError.message does:
// "<message>, at conversions[1].conversion_action".
func partialMessage(errs []adsErr) string {
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		parts = append(parts, e.message+", at "+e.at())
	}
	return strings.Join(parts, ", ")
}

func faultJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("googleadsfake: encode fault: %v", err)) // static shapes only
	}
	return string(b)
}

// RPCFault is a scripted RPC-level error: HTTP status, gRPC status name and
// a GoogleAdsFailure with codes (no details when none).
func RPCFault(status int, grpcStatus, message string, codes ...ErrorCode) fakeads.Fault {
	var details []jsonDetail
	if len(codes) > 0 {
		errs := make([]adsErr, 0, len(codes))
		for _, c := range codes {
			errs = append(errs, adsErr{code: c, message: message})
		}
		details = append(details, failure(DefaultVersion, "fake-scripted", errs))
	}
	return fakeads.Fault{Status: status, Body: faultJSON(rpcBody(status, grpcStatus, message, details...))}
}

// UnauthenticatedFault is Google's answer to an expired or unknown access
// token.
func UnauthenticatedFault() fakeads.Fault {
	return RPCFault(http.StatusUnauthorized, "UNAUTHENTICATED",
		"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
		ErrorCode{"authenticationError", "OAUTH_TOKEN_EXPIRED"})
}

// PermissionDeniedFault is Google's answer for an account the credentials
// cannot reach.
func PermissionDeniedFault() fakeads.Fault {
	return RPCFault(http.StatusForbidden, "PERMISSION_DENIED",
		"User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer ID must be set in the 'login-customer-id' header.",
		ErrorCode{"authorizationError", "USER_PERMISSION_DENIED"})
}

// ResourceExhaustedFault is a 429 quota answer; retryAfter ("30") becomes a
// Retry-After header and retryDelay ("30s", may be "") the quota details.
func ResourceExhaustedFault(retryAfter, retryDelay string) fakeads.Fault {
	e := adsErr{code: ErrorCode{"quotaError", "RESOURCE_EXHAUSTED"}, message: "Too many requests. Retry in " + retryDelay + "."}
	je := e.json()
	if retryDelay != "" {
		je.Details = &jsonErrorDetails{QuotaErrorDetails: &jsonQuotaDetails{RateScope: "DEVELOPER", RateName: "Number of operations for basic access", RetryDelay: retryDelay}}
	}
	d := jsonDetail{Type: failureType(DefaultVersion), RequestID: "fake-scripted", Errors: []jsonAdsError{je}}
	f := fakeads.Fault{Status: http.StatusTooManyRequests, Body: faultJSON(rpcBody(http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", d))}
	if retryAfter != "" {
		f.Header = map[string]string{"Retry-After": retryAfter}
	}
	return f
}

// UnavailableFault is a 503 with Google's error body.
func UnavailableFault() fakeads.Fault {
	return RPCFault(http.StatusServiceUnavailable, "UNAVAILABLE", "The service is currently unavailable.")
}

// PartialFailureFault is an HTTP 200 for an n-row upload where the rows in
// failed got the given errors (empty {} results) and the others succeeded.
// Nothing is recorded in the Ledger: the answer is scripted.
func PartialFailureFault(n int, failed map[int]ErrorCode) fakeads.Fault {
	var errs []adsErr
	results := make([]map[string]string, n)
	for i := 0; i < n; i++ {
		c, bad := failed[i]
		if !bad {
			results[i] = map[string]string{"conversionAction": "customers/" + DefaultCustomerID + "/conversionActions/" + DefaultConversionActionID}
			continue
		}
		results[i] = map[string]string{}
		errs = append(errs, adsErr{code: c, message: "scripted " + c.Value, path: []pathElement{{"conversions", i}}})
	}
	body := map[string]any{"results": results, "jobId": "1"}
	if len(errs) > 0 {
		body["partialFailureError"] = jsonStatus{Code: 3, Message: partialMessage(errs), Details: []jsonDetail{failure(DefaultVersion, "fake-scripted", errs)}}
	}
	return fakeads.Fault{Status: http.StatusOK, Body: faultJSON(body)}
}
