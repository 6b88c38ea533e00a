package linkedinfake

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// Faults with LinkedIn's own bodies (docs/contracts/ad-platforms.md §5.4), for Script.Push.

// RateLimited is a 429 with Retry-After in seconds.
func RateLimited(retryAfterSeconds int) fakeads.Fault {
	return fakeads.Fault{
		Status: http.StatusTooManyRequests,
		Header: map[string]string{"Retry-After": strconv.Itoa(retryAfterSeconds)},
		Body:   `{"status":429,"serviceErrorCode":101,"code":"TOO_MANY_REQUESTS","message":"Resource level throttle limit for calls to this resource is reached"}`,
	}
}

// ServerError is a 5xx with LinkedIn's error shape.
func ServerError(status int) fakeads.Fault {
	return fakeads.Fault{Status: status, Body: `{"status":` + strconv.Itoa(status) + `,"message":"Internal Server Error"}`}
}

// RevokedToken is the 401 of a token the member revoked.
func RevokedToken() fakeads.Fault {
	return fakeads.Fault{Status: http.StatusUnauthorized,
		Body: `{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token used in the request has been revoked by the user"}`}
}

// InvalidToken is the 401 of an expired or wrong token.
func InvalidToken() fakeads.Fault {
	return fakeads.Fault{Status: http.StatusUnauthorized,
		Body: `{"status":401,"serviceErrorCode":65600,"code":"INVALID_ACCESS_TOKEN","message":"Invalid access token"}`}
}

// AccessDenied is the 403 of a token without the conversions permission.
func AccessDenied() fakeads.Fault {
	return fakeads.Fault{Status: http.StatusForbidden,
		Body: `{"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"Not enough permissions to access: conversionEvents.CREATE.20260701"}`}
}

// VersionSunset is the 426 of a LinkedIn-Version no longer served.
func VersionSunset(version string) fakeads.Fault {
	return fakeads.Fault{Status: http.StatusUpgradeRequired,
		Body: `{"status":426,"code":"NONEXISTENT_VERSION","message":"Requested version ` + version + ` is not active"}`}
}

// Unprocessable is a 422 whose message is LinkedIn's row errors, e.g.
// "Index: 1, ERROR :: /user/userIds :: …\n".
func Unprocessable(message string) fakeads.Fault {
	b, _ := json.Marshal(errorBody{Status: http.StatusUnprocessableEntity, Message: message})
	return fakeads.Fault{Status: http.StatusUnprocessableEntity, Body: string(b)}
}

// ElementStatuses is a BATCH_CREATE answer with one status per element: a
// partial outcome. Statuses of 400 and above carry an error body.
func ElementStatuses(statuses ...int) fakeads.Fault {
	type element struct {
		Status int        `json:"status"`
		Error  *errorBody `json:"error,omitempty"`
	}
	res := struct {
		Elements []element `json:"elements"`
	}{}
	for _, st := range statuses {
		el := element{Status: st}
		if st >= 400 {
			el.Error = &errorBody{Status: st, Message: http.StatusText(st)}
		}
		res.Elements = append(res.Elements, el)
	}
	b, _ := json.Marshal(res)
	return fakeads.Fault{Status: http.StatusOK, Body: string(b)}
}
