package linkedin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

func TestClassify(t *testing.T) {
	now := testNow
	type want struct {
		class      conversions.Class
		whole      bool
		reason     string // substring
		retryAfter time.Duration
	}
	f := func(status int, retryAfter, body string, n int, wants ...want) {
		t.Helper()
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		got := classify(status, h, []byte(body), now, n)
		if len(got) != n {
			t.Fatalf("%d %s: %d outcomes for %d", status, body, len(got), n)
		}
		for i, w := range wants {
			g := got[i]
			if g.Class != w.class || g.WholeBatch != w.whole || !strings.Contains(g.Reason, w.reason) ||
				g.RetryAfter != w.retryAfter || g.Status != status {
				t.Fatalf("%d %s row %d: got %+v, want %+v", status, body, i, g, w)
			}
		}
	}
	delivered := want{class: conversions.Delivered}
	f(201, "", "", 1, delivered)
	f(200, "", `{"elements":[{"status":201},{"status":201}]}`, 2, delivered, delivered)
	// Partial answers of a BATCH_CREATE, row by row; 409 is a duplicate.
	f(200, "3", `{"elements":[{"status":201},{"status":409},{"status":429},{"status":400,"error":{"status":400,"message":"bad amount"}},{"status":500}]}`, 5,
		delivered, delivered,
		want{class: conversions.Retry, reason: "element 429", retryAfter: 3 * time.Second},
		want{class: conversions.Rejected, reason: "linkedin 400: bad amount"},
		want{class: conversions.Retry, reason: "element 500", retryAfter: 3 * time.Second})
	// An accepted batch without (complete) detail is delivered.
	f(201, "", "", 3, delivered, delivered, delivered)
	f(200, "", `{"elements":[{"status":201}]}`, 2, delivered, delivered)

	f(429, "7", `{"status":429,"message":"throttled"}`, 2,
		want{class: conversions.Retry, reason: "linkedin 429: throttled", retryAfter: 7 * time.Second},
		want{class: conversions.Retry, reason: "throttled", retryAfter: 7 * time.Second})
	f(503, "", "", 1, want{class: conversions.Retry, reason: "linkedin 503: Service Unavailable"})
	f(408, "", "", 1, want{class: conversions.Retry})
	f(502, "", "<html>bad gateway</html>", 1, want{class: conversions.Retry, reason: "<html>bad gateway</html>"})

	halt := func(reason string) want { return want{class: conversions.Halt, reason: reason} }
	f(401, "", `{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"revoked"}`, 2,
		halt("linkedin 401 REVOKED_ACCESS_TOKEN: revoked"), halt("REVOKED"))
	f(401, "", `{"status":401,"serviceErrorCode":65600,"code":"INVALID_ACCESS_TOKEN","message":"Invalid access token"}`, 1,
		halt("INVALID_ACCESS_TOKEN"))
	f(403, "", `{"status":403,"code":"ACCESS_DENIED","message":"Not enough permissions"}`, 1, halt("ACCESS_DENIED"))
	f(426, "", `{"status":426,"code":"NONEXISTENT_VERSION","message":"Requested version 202401 is not active"}`, 1,
		halt("linkedin 426 NONEXISTENT_VERSION: Requested version 202401 is not active (pin a newer linkedin version)"))
	f(404, "", "", 1, halt("linkedin 404: Not Found"))
	f(400, "", `{"status":400,"message":"Incorrect conversions information provided. Conversion's method should be CONVERSIONS_API, indices [0, 1] (0-indexed)"}`, 2,
		halt("CONVERSIONS_API"), halt("CONVERSIONS_API"))

	// Single element: rejected, nothing to split.
	f(422, "", `{"status":422,"message":"Index: 0, ERROR :: /user/userIds :: missing\n"}`, 1,
		want{class: conversions.Rejected, reason: "linkedin 422: Index: 0, ERROR :: /user/userIds :: missing"})
	// A batch refused with named rows: those are rejected for good, the
	// others are retried, to be re-sent without them.
	other := want{class: conversions.Retry, reason: "linkedin refused the batch for other elements: linkedin"}
	f(422, "", `{"status":422,"message":"Index: 1, ERROR :: /conversionValue/amount :: field is required\nERROR :: /user/userInfo/firstName :: field is required\nIndex: 3, ERROR :: /x :: y\nIndex: 9, ERROR :: /z :: out of range\n"}`, 4,
		other,
		want{class: conversions.Rejected, reason: "linkedin 422: ERROR :: /conversionValue/amount :: field is required; ERROR :: /user/userInfo/firstName :: field is required"},
		other,
		want{class: conversions.Rejected, reason: "linkedin 422: ERROR :: /x :: y"})
	f(400, "", `{"status":400,"message":"Incorrect conversions information provided. Something else, indices [1] (0-indexed)"}`, 2,
		other, want{class: conversions.Rejected, reason: "Something else"})
	// Nothing named: every row may be the culprit; the dispatcher splits.
	wholeBatch := want{class: conversions.Rejected, whole: true, reason: "linkedin 400: malformed"}
	f(400, "", `{"status":400,"message":"malformed"}`, 3, wholeBatch, wholeBatch, wholeBatch)
	f(413, "", "", 2, want{class: conversions.Rejected, whole: true, reason: "Request Entity Too Large"})
}

func TestTruncateKeepsUTF8(t *testing.T) {
	s := truncate(strings.Repeat("é", maxReason))
	if !strings.HasSuffix(s, "…") || len(s) > maxReason+len("…") || !utf8Valid(s) {
		t.Fatalf("bad truncation: %d bytes", len(s))
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "?") == s }
