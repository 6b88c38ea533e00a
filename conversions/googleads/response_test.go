package googleads

import (
	"net/http"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// The documented partial failure example (docs/contracts/ad-platforms.md §3.6): row 1 names an action that
// does not exist, row 0 went through.
const documentedPartialFailure = `{"partialFailureError":{"code":3,
  "message":"The conversion action specified in the upload request cannot be found. Make sure it's available in this account., at conversions[1].conversion_action",
  "details":[{"@type":"type.googleapis.com/google.ads.googleads.v24.errors.GoogleAdsFailure",
    "errors":[{"errorCode":{"conversionUploadError":"NO_CONVERSION_ACTION_FOUND"},
      "message":"The conversion action specified in the upload request cannot be found. Make sure it's available in this account.",
      "trigger":{"stringValue":"customers/4172647997/conversionActions/7377464874"},
      "location":{"fieldPathElements":[{"fieldName":"conversions","index":1},{"fieldName":"conversion_action"}]}}],
    "requestId":"f4J_sjHfhbgNieU4pkBOqg"}]},
 "results":[{"conversionAction":"customers/123/conversionActions/456","conversionDateTime":"2025-11-12 16:21:53+05:30"},{}],
 "jobId":"5353383680802491057"}`

const documentedUnauthenticated = `{"error":{"code":401,"message":"Request is missing required authentication credential. …","status":"UNAUTHENTICATED",
  "details":[{"@type":"type.googleapis.com/google.ads.googleads.v24.errors.GoogleAdsFailure",
    "errors":[{"errorCode":{"authenticationError":"TWO_STEP_VERIFICATION_NOT_ENROLLED"},"message":"…"}],"requestId":"wy4ZYbsjWcgh6uC2Ruc_Zg"}]}}`

func rowFailure(rows map[int]string) string {
	errs, results := "", ""
	for i := 0; i < 4; i++ {
		if results != "" {
			results += ","
		}
		code, bad := rows[i]
		if !bad {
			results += `{"conversionAction":"customers/1/conversionActions/2"}`
			continue
		}
		results += "{}"
		if errs != "" {
			errs += ","
		}
		errs += `{"errorCode":{"conversionUploadError":"` + code + `"},"message":"m","location":{"fieldPathElements":[{"fieldName":"conversions","index":` + string(rune('0'+i)) + `}]}}`
	}
	return `{"partialFailureError":{"code":3,"message":"m","details":[{"errors":[` + errs + `]}]},"results":[` + results + `]}`
}

func TestClassifyOK(t *testing.T) {
	out := classifyOK([]byte(documentedPartialFailure), 2, false)
	if out[0].Class != conversions.Delivered || out[1].Class != conversions.Halt || out[1].Status != 200 {
		t.Fatalf("documented example: %+v", out)
	}

	out = classifyOK([]byte(rowFailure(map[int]string{1: "TOO_RECENT_EVENT", 2: "ORDER_ID_ALREADY_IN_USE", 3: "UNPARSEABLE_GCLID"})), 4, false)
	want := []conversions.Class{conversions.Delivered, conversions.Retry, conversions.Delivered, conversions.Rejected}
	for i, w := range want {
		if out[i].Class != w {
			t.Fatalf("row %d: %+v, want %s", i, out[i], w)
		}
	}
	if out[1].RetryAfter != 6*time.Hour || out[3].Reason != "conversionUploadError.UNPARSEABLE_GCLID: m" || out[2].Reason != "" {
		t.Fatalf("%+v", out)
	}

	f := func(name, body string, n int, validateOnly bool, want ...conversions.Class) {
		t.Helper()
		out := classifyOK([]byte(body), n, validateOnly)
		for i, w := range want {
			if out[i].Class != w {
				t.Fatalf("%s: row %d: %+v, want %s", name, i, out[i], w)
			}
		}
	}
	f("all delivered", `{"results":[{"gclid":"a"},{"gclid":"b"}],"jobId":"1"}`, 2, false, conversions.Delivered, conversions.Delivered)
	f("validate only, clean", `{}`, 2, true, conversions.Delivered, conversions.Delivered)
	f("validate only, one row refused", `{"partialFailureError":{"code":3,"message":"m","details":[{"errors":[{"errorCode":{"conversionUploadError":"INVALID_USER_IDENTIFIER"},"message":"m","location":{"fieldPathElements":[{"fieldName":"conversions","index":0}]}}]}]}}`,
		2, true, conversions.Rejected, conversions.Delivered)
	f("error without a row hits the empty results", `{"partialFailureError":{"code":3,"message":"m","details":[{"errors":[{"errorCode":{"databaseError":"CONCURRENT_MODIFICATION"},"message":"m"}]}]},"results":[{"gclid":"a"},{}]}`,
		2, false, conversions.Delivered, conversions.Retry)
	f("partial failure without details", `{"partialFailureError":{"code":3,"message":"something"},"results":[{},{"gclid":"a"}]}`,
		2, false, conversions.Rejected, conversions.Delivered)
	f("empty result without an error", `{"results":[{},{"gclid":"a"}]}`, 2, false, conversions.Rejected, conversions.Delivered)
	f("not JSON: re-send, orderId dedups", `<html>`, 2, false, conversions.Retry, conversions.Retry)
	f("two errors on one row: the worse wins", `{"partialFailureError":{"code":3,"message":"m","details":[{"errors":[`+
		`{"errorCode":{"conversionUploadError":"TOO_RECENT_EVENT"},"message":"a","location":{"fieldPathElements":[{"fieldName":"conversions","index":0}]}},`+
		`{"errorCode":{"conversionUploadError":"EXPIRED_EVENT"},"message":"b","location":{"fieldPathElements":[{"fieldName":"conversions","index":0}]}}]}]},"results":[{}]}`,
		1, false, conversions.Rejected)
	f("internal error is transient", `{"partialFailureError":{"code":3,"message":"m","details":[{"errors":[{"errorCode":{"internalError":"TRANSIENT_ERROR"},"message":"m","location":{"fieldPathElements":[{"fieldName":"conversions","index":0}]}}]}]},"results":[{}]}`,
		1, false, conversions.Retry)
}

func TestClassifyError(t *testing.T) {
	now := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	f := func(name string, status int, header http.Header, body string, n int, want conversions.Outcome) []conversions.Outcome {
		t.Helper()
		out := classifyError(status, header, []byte(body), now, n)
		if len(out) != n {
			t.Fatalf("%s: %d outcomes for %d rows", name, len(out), n)
		}
		o := out[0]
		if o.Class != want.Class || o.RetryAfter != want.RetryAfter || o.WholeBatch != want.WholeBatch || o.Status != status {
			t.Fatalf("%s: %+v, want %+v", name, o, want)
		}
		return out
	}
	f("documented 401", 401, nil, documentedUnauthenticated, 2, conversions.Outcome{Class: conversions.Halt})
	f("429 with Retry-After", 429, http.Header{"Retry-After": {"7"}}, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}`, 2,
		conversions.Outcome{Class: conversions.Retry, RetryAfter: 7 * time.Second})
	f("429 with a quota retryDelay", 429, nil, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"errors":[{"errorCode":{"quotaError":"RESOURCE_EXHAUSTED"},"message":"m","details":{"quotaErrorDetails":{"retryDelay":"30s"}}}]}]}}`, 1,
		conversions.Outcome{Class: conversions.Retry, RetryAfter: 30 * time.Second})
	f("503", 503, nil, `{"error":{"code":503,"status":"UNAVAILABLE"}}`, 1, conversions.Outcome{Class: conversions.Retry})
	f("502 from a proxy, HTML", 502, nil, `<html>bad gateway</html>`, 1, conversions.Outcome{Class: conversions.Retry})
	f("408", 408, nil, ``, 1, conversions.Outcome{Class: conversions.Retry})
	f("403 permission denied", 403, nil, `{"error":{"code":403,"status":"PERMISSION_DENIED"}}`, 3, conversions.Outcome{Class: conversions.Halt})
	f("404 retired version", 404, nil, `<html>not found</html>`, 1, conversions.Outcome{Class: conversions.Halt})
	f("400 UNSUPPORTED_VERSION", 400, nil, `{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"errors":[{"errorCode":{"requestError":"UNSUPPORTED_VERSION"},"message":"m"}]}]}}`, 2,
		conversions.Outcome{Class: conversions.Halt})
	f("400 developer token missing", 400, nil, `{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"errors":[{"errorCode":{"requestError":"DEVELOPER_TOKEN_PARAMETER_MISSING"},"message":"m"}]}]}}`, 1,
		conversions.Outcome{Class: conversions.Halt})
	f("400 without rows: split the batch", 400, nil, `{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"Request contains an invalid argument."}}`, 2,
		conversions.Outcome{Class: conversions.Rejected, WholeBatch: true})
	f("400 for a single conversion", 400, nil, `{"error":{"code":400,"status":"INVALID_ARGUMENT"}}`, 1, conversions.Outcome{Class: conversions.Rejected})
	f("413", 413, nil, ``, 2, conversions.Outcome{Class: conversions.Rejected, WholeBatch: true})

	out := f("400 naming a row", 400, nil, `{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest",
		"fieldViolations":[{"field":"conversions[1].conversion_value","description":"Invalid value"}]}]}}`, 3, conversions.Outcome{Class: conversions.Retry})
	if out[1].Class != conversions.Rejected || out[2].Class != conversions.Retry {
		t.Fatalf("400 naming a row: %+v", out)
	}
}

func TestOAuthRefreshable(t *testing.T) {
	f := func(body string, want bool) {
		t.Helper()
		if got := oauthRefreshable([]byte(body)); got != want {
			t.Fatalf("oauthRefreshable(%s) = %v", body, got)
		}
	}
	f(`{"error":{"code":401,"status":"UNAUTHENTICATED","message":"Request had invalid authentication credentials."}}`, true)
	f(`{"error":{"code":401,"details":[{"errors":[{"errorCode":{"authenticationError":"OAUTH_TOKEN_EXPIRED"}}]}]}}`, true)
	f(`not json`, true)
	f(documentedUnauthenticated, false)
	f(`{"error":{"code":401,"details":[{"errors":[{"errorCode":{"authenticationError":"DEVELOPER_TOKEN_INVALID"}}]}]}}`, false)
}
