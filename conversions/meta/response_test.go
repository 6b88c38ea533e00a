package meta

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

func TestClassify(t *testing.T) {
	now := time.Unix(1767225600, 0)
	f := func(status int, retryAfter, body string, sent int, want conversions.Outcome, reason string) {
		t.Helper()
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		got := classify(status, h, []byte(body), now, sent)
		if got.Class != want.Class || got.RetryAfter != want.RetryAfter || got.WholeBatch != want.WholeBatch || got.Status != status {
			t.Fatalf("%d %s:\n got %+v\nwant class %s retryAfter %s wholeBatch %v", status, body, got, want.Class, want.RetryAfter, want.WholeBatch)
		}
		if !strings.Contains(got.Reason, reason) {
			t.Fatalf("reason %q lacks %q", got.Reason, reason)
		}
	}
	D, R, X, H := conversions.Delivered, conversions.Retry, conversions.Rejected, conversions.Halt
	graph := func(code, sub int, transient bool) string {
		b := `{"error":{"message":"m","type":"OAuthException","code":` + itoa(code)
		if sub != 0 {
			b += `,"error_subcode":` + itoa(sub)
		}
		if transient {
			b += `,"is_transient":true`
		}
		return b + `,"fbtrace_id":"T1"}}`
	}

	f(200, "", `{"events_received":2,"messages":[],"fbtrace_id":"A"}`, 2, conversions.Outcome{Class: D}, "")
	f(200, "", `{"events_received":1,"messages":[],"fbtrace_id":"A"}`, 2, conversions.Outcome{Class: R}, "events_received 1 of 2")
	f(200, "", `{}`, 1, conversions.Outcome{Class: R}, "events_received no of 1")
	f(200, "", `<html>`, 1, conversions.Outcome{Class: R}, "not a graph answer")

	// Transient: statuses, codes and is_transient; Retry-After honoured.
	f(429, "7", graph(4, 0, true), 3, conversions.Outcome{Class: R, RetryAfter: 7 * time.Second}, "code 4")
	f(429, "", ``, 3, conversions.Outcome{Class: R}, "empty body")
	f(500, "", graph(2, 0, true), 1, conversions.Outcome{Class: R}, "code 2")
	f(503, "2", `<html>busy</html>`, 1, conversions.Outcome{Class: R, RetryAfter: 2 * time.Second}, "not a graph answer")
	f(502, "", `<html>bad gateway</html>`, 1, conversions.Outcome{Class: R}, "bad gateway")
	f(408, "", ``, 1, conversions.Outcome{Class: R}, "meta 408")
	for _, code := range []int{1, 2, 4, 17, 341, 368, 613, 5000, 80003} {
		f(400, "", graph(code, 0, false), 2, conversions.Outcome{Class: R}, "code "+itoa(code))
	}
	f(400, "", graph(999, 0, true), 2, conversions.Outcome{Class: R}, "code 999")

	// Broken destination: token, version, pixel, permission.
	f(400, "", graph(190, 463, false), 5, conversions.Outcome{Class: H}, "invalid or expired access token")
	f(401, "", graph(190, 0, false), 5, conversions.Outcome{Class: H}, "code 190")
	f(400, "", graph(104, 0, false), 1, conversions.Outcome{Class: H}, "access token missing")
	f(400, "", graph(2635, 0, false), 1, conversions.Outcome{Class: H}, "deprecated api version")
	f(400, "", graph(100, 33, false), 1, conversions.Outcome{Class: H}, "unknown pixel")
	f(403, "", graph(200, 0, false), 1, conversions.Outcome{Class: H}, "permission missing")
	f(404, "", `<html>not found</html>`, 1, conversions.Outcome{Class: H}, "not found")
	f(401, "", ``, 1, conversions.Outcome{Class: H}, "meta 401")

	// A refused payload: the whole batch when it held several events.
	body := `{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2804016,` +
		`"is_transient":false,"error_user_title":"User Parameter Not Hashed","error_user_msg":"The ct parameter isn’t hashed.","fbtrace_id":"A1b2C3"}}`
	f(400, "", body, 3, conversions.Outcome{Class: X, WholeBatch: true},
		"meta 400: code 100/2804016 OAuthException: Invalid parameter; User Parameter Not Hashed: The ct parameter isn’t hashed. (fbtrace_id A1b2C3)")
	f(400, "", body, 1, conversions.Outcome{Class: X}, "2804016")
	f(400, "", `{"oops":true}`, 2, conversions.Outcome{Class: X, WholeBatch: true}, "meta 400")
}

func itoa(n int) string { return strconv.Itoa(n) }
