package tiktokfake

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// Ready-made faults for Script.Push, shaped like TikTok's answers
// (docs/contracts/ad-platforms.md §4.4): business errors are HTTP 200 with a non-zero code.

// CodeFault answers HTTP 200 with code and message.
func CodeFault(code int, message string) fakeads.Fault {
	b, _ := json.Marshal(answer{Code: code, Message: message, RequestID: "fault"})
	return fakeads.Fault{Status: http.StatusOK, Body: string(b)}
}

// RateLimited is code 40100; retryAfter ("" for none) goes in Retry-After.
func RateLimited(retryAfter string) fakeads.Fault {
	f := CodeFault(CodeRateLimited, "Too many requests. Please retry in some time.")
	if retryAfter != "" {
		f.Header = map[string]string{"Retry-After": retryAfter}
	}
	return f
}

// TokenRevoked is code 40105.
func TokenRevoked() fakeads.Fault {
	return CodeFault(CodeBadToken, "Access token is incorrect or has been revoked.")
}

// NoPermission is code 40001 for pixel.
func NoPermission(pixel string) fakeads.Fault {
	return CodeFault(CodeNoPermission, "No permission to operate pixel code: "+pixel+". You must be an admin or operator of this advertiser account.")
}

// InvalidEvent is code 40002 naming a field of event i, as TikTok words
// payload errors ("Batch.0.properties.contents.0.content_id: …").
func InvalidEvent(i int, field, problem string) fakeads.Fault {
	return CodeFault(CodeInvalidParam, "Batch."+strconv.Itoa(i)+"."+field+": "+problem)
}

// PartialSuccess is code 20001, which TikTok sends when some events of a
// batch were dropped; it names no rows.
func PartialSuccess() fakeads.Fault {
	return CodeFault(20001, "Partial success.")
}

// ServerError is an infrastructure failure with an HTTP status (5xx, 429),
// the only non-200 answers TikTok gives; retryAfter may be "".
func ServerError(status int, retryAfter string) fakeads.Fault {
	f := fakeads.Fault{Status: status, Body: `{"code":50000,"message":"Internal error"}`}
	if retryAfter != "" {
		f.Header = map[string]string{"Retry-After": retryAfter}
	}
	return f
}
