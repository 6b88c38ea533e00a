package metafake

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// Graph error subcodes the fake answers with. 2804003 and 2804016 are
// Meta's (docs/contracts/ad-platforms.md §2.6); the others are representative members of the 2804xxx
// validation family, whose exact numbers Meta does not publish.
const (
	SubcodeInvalid     = 2804001 // a field is missing, mistyped or unknown
	SubcodeTooOld      = 2804003 // "Event sent after seven days."
	SubcodeTime        = 2804004 // event_time in the future or in the wrong unit
	SubcodeNotHashed   = 2804016 // "User Parameter Not Hashed"
	SubcodeNoUserMatch = 2804050 // user_data has no usable identifier
	SubcodeUnknownObj  = 33      // with code 100: pixel unknown or not permitted
)

// GraphError is the "error" object of a Graph API answer, in Meta's key
// order (docs/contracts/ad-platforms.md §2.6).
type GraphError struct {
	Message     string `json:"message"`
	Type        string `json:"type"`
	Code        int    `json:"code"`
	Subcode     int    `json:"error_subcode,omitempty"`
	IsTransient bool   `json:"is_transient"`
	UserTitle   string `json:"error_user_title,omitempty"`
	UserMsg     string `json:"error_user_msg,omitempty"`
	FBTraceID   string `json:"fbtrace_id"`
}

// Error renders e as Graph's code, subcode and texts.
func (e *GraphError) Error() string {
	s := fmt.Sprintf("graph error %d", e.Code)
	if e.Subcode != 0 {
		s += fmt.Sprintf("/%d", e.Subcode)
	}
	s += ": " + e.Message
	if e.UserTitle != "" {
		s += "; " + e.UserTitle
	}
	if e.UserMsg != "" {
		s += ": " + e.UserMsg
	}
	return s
}

type errorBody struct {
	Error GraphError `json:"error"`
}

// Body is the JSON answer carrying e.
func (e GraphError) Body() string {
	if e.Type == "" {
		e.Type = "OAuthException"
	}
	if e.FBTraceID == "" {
		e.FBTraceID = "FakeTrace"
	}
	b, err := json.Marshal(errorBody{Error: e})
	if err != nil {
		panic(fmt.Sprintf("metafake: encode graph error: %v", err)) // a struct of strings and ints always encodes
	}
	return string(b)
}

// Fault answers status with e.
func (e GraphError) Fault(status int) fakeads.Fault {
	return fakeads.Fault{Status: status, Body: e.Body()}
}

// invalidParam is Meta's shape for a refused event parameter.
func invalidParam(subcode int, title, msg string) GraphError {
	return GraphError{Message: "Invalid parameter", Code: 100, Subcode: subcode, UserTitle: title, UserMsg: msg}
}

// AuthFault is an expired or unparsable token: code 190. Graph answers it
// with 400 and a WWW-Authenticate header.
func AuthFault() fakeads.Fault {
	f := GraphError{
		Message: "Error validating access token: Session has expired.",
		Code:    190, Subcode: 463,
	}.Fault(400)
	f.Header = map[string]string{"WWW-Authenticate": `OAuth "Facebook Platform" "invalid_token" "Error validating access token"`}
	return f
}

// ThrottleFault is a Graph rate limit (code 4, 17, 613 or 80003), answered
// 400 as Graph does for throttling, optionally with a Retry-After header.
func ThrottleFault(code int, retryAfter string) fakeads.Fault {
	f := GraphError{
		Message: fmt.Sprintf("(#%d) Application request limit reached", code),
		Code:    code, IsTransient: true,
	}.Fault(400)
	if retryAfter != "" {
		f.Header = map[string]string{"Retry-After": retryAfter}
	}
	return f
}

// TooManyRequestsFault is HTTP 429 with Retry-After, as a front proxy
// answers when Graph sheds load.
func TooManyRequestsFault(retryAfter string) fakeads.Fault {
	f := GraphError{Message: "(#4) Application request limit reached", Code: 4, IsTransient: true}.Fault(429)
	f.Header = map[string]string{"Retry-After": retryAfter}
	return f
}

// ServerFault is a Graph 500 with the transient code 2.
func ServerFault() fakeads.Fault {
	return GraphError{
		Message: "An unexpected error has occurred. Please retry your request later.",
		Code:    2, IsTransient: true,
	}.Fault(500)
}

// DeprecatedVersionFault is the answer to a retired Graph version.
func DeprecatedVersionFault() fakeads.Fault {
	return deprecatedVersion().Fault(400)
}

func deprecatedVersion() GraphError {
	return GraphError{
		Message: "(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version.",
		Code:    2635,
	}
}

// InvalidParameterFault refuses the request as Meta does when one event of
// it is invalid: code 100, HTTP 400, the whole batch.
func InvalidParameterFault(subcode int, title, msg string) fakeads.Fault {
	return invalidParam(subcode, title, msg).Fault(400)
}

// UnknownPixelFault is code 100 subcode 33: the pixel does not exist or the
// token may not use it.
func UnknownPixelFault(pixelID string) fakeads.Fault {
	return unknownPixel(pixelID).Fault(400)
}

func unknownPixel(pixelID string) GraphError {
	return GraphError{
		Message: fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", pixelID),
		Code:    100, Subcode: SubcodeUnknownObj,
	}
}

// SlowFault holds the request for d before answering 504: Meta suggests a
// 1.5 s client timeout, so d > 1.5 s tests the client's.
func SlowFault(d time.Duration) fakeads.Fault {
	return fakeads.Fault{Status: 504, Delay: d, Body: `{"error":{"message":"timeout","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"FakeTrace"}}`}
}

// HTMLFault is a load balancer's error page instead of a Graph answer.
func HTMLFault(status int) fakeads.Fault {
	return fakeads.Fault{Status: status, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>", Header: map[string]string{"Content-Type": "text/html"}}
}
