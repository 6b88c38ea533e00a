package backoff

import (
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {" 7 ", 7 * time.Second}, {"-3", 0}, {"soon", 0},
		{"Sun, 06 Dec 2026 12:00:30 GMT", 30 * time.Second},
		{"Sun, 06 Dec 2026 11:59:00 GMT", 0},
	} {
		if got := RetryAfter(c.in, now); got != c.want {
			t.Errorf("RetryAfter(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
