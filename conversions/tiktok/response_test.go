package tiktok

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

func TestClassify(t *testing.T) {
	now := time.Unix(1767225600, 0)
	f := func(status int, retryAfter, body string, n int, want conversions.Class, wantWhole bool, wantReason string) {
		t.Helper()
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		o := classify(status, h, []byte(body), now, n)
		if o.Class != want || o.WholeBatch != wantWhole || o.Status != status || !strings.Contains(o.Reason, wantReason) {
			t.Fatalf("%d %s: got %+v, want %s whole=%v reason ~%q", status, body, o, want, wantWhole, wantReason)
		}
		if retryAfter == "7" && o.RetryAfter != 7*time.Second {
			t.Fatalf("%d %s: RetryAfter %s", status, body, o.RetryAfter)
		}
	}
	// Spec docs/contracts/ad-platforms.md §4.4 bodies, all HTTP 200.
	f(200, "", `{"code":0,"message":"OK","request_id":"2026061015295501023125104093255","data":{}}`, 3, conversions.Delivered, false, "")
	f(200, "", `{"code":20001,"message":"Partial success"}`, 3, conversions.Delivered, false, "")
	f(200, "7", `{"code":40100,"message":"Too many requests. Please retry in some time."}`, 3, conversions.Retry, false, "tiktok code 40100")
	f(200, "", `{"code":40105,"message":"Access token is incorrect or has been revoked.","request_id":"r1","data":{}}`, 3, conversions.Halt, false, "(request_id r1)")
	f(200, "", `{"code":40001,"message":"No permission to operate pixel code: BU35TSQHT2A1QT375OMG. You must be an admin or operator of this advertiser account."}`, 1, conversions.Halt, false, "No permission")
	f(200, "", `{"code":40104,"message":"Access token is null"}`, 1, conversions.Halt, false, "40104")
	f(200, "", `{"code":40002,"message":"Batch.0.properties.contents.0.content_id: Not a valid string"}`, 3, conversions.Rejected, true, "Batch.0")
	f(200, "", `{"code":40002,"message":"Batch.0.properties.contents.0.content_id: Not a valid string"}`, 1, conversions.Rejected, false, "content_id")
	f(200, "", `{"code":40002,"message":"event_source_id: pixel code does not exist"}`, 3, conversions.Halt, false, "event_source_id")
	f(200, "", `{"code":40003,"message":"something else"}`, 2, conversions.Rejected, true, "40003")
	f(200, "", `{"code":51000,"message":"internal"}`, 2, conversions.Retry, false, "51000")
	f(200, "", `<html>gateway</html>`, 2, conversions.Retry, false, "without a tiktok code")
	f(200, "", `{"message":"no code"}`, 2, conversions.Retry, false, "without a tiktok code")
	// Infrastructure answers.
	f(429, "7", `slow down`, 2, conversions.Retry, false, "http 429")
	f(503, "", ``, 2, conversions.Retry, false, "empty body")
	f(408, "", ``, 2, conversions.Retry, false, "http 408")
	f(401, "", `denied`, 2, conversions.Halt, false, "http 401")
	f(404, "", `404 page not found`, 2, conversions.Halt, false, "http 404")
	f(400, "", `bad`, 2, conversions.Rejected, true, "http 400")
	f(400, "", `{"code":40105,"message":"Access token is incorrect"}`, 2, conversions.Halt, false, "40105")
}
