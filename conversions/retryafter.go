package conversions

import (
	"net/http"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/backoff"
)

// RetryableStatus reports whether an HTTP status is transient on every
// platform: 408, 429 and 5xx.
func RetryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// RetryAfter parses a Retry-After header (delta seconds or an HTTP date);
// 0 when absent or unparseable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	return backoff.RetryAfter(h.Get("Retry-After"), now)
}

// TransportFailure is the outcome for a request that got no HTTP answer; its
// reason quotes no secret (ErrorText).
func TransportFailure(err error) Outcome {
	return Outcome{Class: Retry, Reason: "transport: " + ErrorText(err)}
}
