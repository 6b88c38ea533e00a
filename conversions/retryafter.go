package conversions

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryableStatus reports whether an HTTP status is transient on every
// platform: 408, 429 and 5xx.
func RetryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// RetryAfter parses a Retry-After header (delta seconds or an HTTP date);
// 0 when absent or unparseable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// TransportFailure is the outcome for a request that got no HTTP answer; its
// reason quotes no secret (ErrorText).
func TransportFailure(err error) Outcome {
	return Outcome{Class: Retry, Reason: "transport: " + ErrorText(err)}
}
