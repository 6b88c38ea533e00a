package posthog

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxFuture is how far after now an event time may be before it is clamped
// to now (docs/contracts/posthog-capture.md §5).
const maxFuture = 23 * time.Hour

// ResolveSentAt is the client's send time: the batch body's
// sent_at when it parses, otherwise the query's `_` or `sent_at` in integer
// milliseconds, used only when it falls after 2020 (so seconds are ignored).
// ok is false when the request carries none.
func ResolveSentAt(bodySentAt string, query []byte) (t time.Time, ok bool) {
	if bodySentAt != "" {
		if t, ok := ParseTimestamp(bodySentAt); ok {
			return t, true
		}
	}
	for _, key := range []string{"_", "sent_at"} {
		v, found := queryField(query, key)
		if !found {
			continue
		}
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		if t := time.UnixMilli(ms).UTC(); t.Year() > 2020 {
			return t, true
		}
	}
	return time.Time{}, false
}

// queryField returns the raw value of key in a query string (the fields used
// here are digits, so no unescaping).
func queryField(query []byte, key string) (string, bool) {
	for len(query) > 0 {
		var pair []byte
		pair, query, _ = bytes.Cut(query, []byte("&"))
		k, v, _ := bytes.Cut(pair, []byte("="))
		if string(k) == key {
			return string(v), true
		}
	}
	return "", false
}

// EventTime is when the event happened (docs/contracts/posthog-capture.md §5, capture-rs
// parse_event_timestamp), in UTC:
//
//  1. sentAt is ignored when properties.$ignore_sent_at is true; a zero sentAt
//     means the request has none (see ResolveSentAt);
//  2. a parseable timestamp, corrected for the client's clock skew when there
//     is a sentAt: timestamp − (sentAt − now); else the timestamp as is;
//  3. an offset overrides both: now − offset milliseconds;
//  4. nothing usable: now;
//  5. more than 23 h after now: now; a year outside 0..9999: the Unix epoch.
func EventTime(ev *RawEvent, sentAt, now time.Time) time.Time {
	now = now.UTC()
	if ev.IgnoreSentAt {
		sentAt = time.Time{}
	}
	t := now
	if ev.Timestamp != "" {
		if ts, ok := ParseTimestamp(ev.Timestamp); ok {
			t = ts
			if !sentAt.IsZero() {
				t = ts.Add(now.Sub(sentAt))
			}
		}
	}
	if ev.HasOffset {
		t = subMillis(now, ev.Offset)
	}
	if t.Sub(now) > maxFuture {
		t = now
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Unix(0, 0).UTC()
	}
	return t.UTC()
}

// subMillis is now − ms milliseconds. Offsets too large for time.Duration
// land far outside years 0..9999 (or far in the future), which EventTime
// then maps to the epoch (or to now).
func subMillis(now time.Time, ms int64) time.Time {
	const maxMs = math.MaxInt64 / int64(time.Millisecond)
	switch {
	case ms >= maxMs:
		return time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)
	case ms <= -maxMs:
		return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return now.Add(-time.Duration(ms) * time.Millisecond)
}

// ParseTimestamp parses an event timestamp the way capture does: RFC 3339
// (a trailing +HH or +HHMM zone is accepted), then a lenient set of forms
// (date only, "YYYY-MM-DD HH:MM:SS", slash dates, RFC 2822, numeric epochs in
// s/ms/µs/ns), then a civil date-time without zone taken as UTC.
func ParseTimestamp(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	if c := s[0]; c == '-' || c == '+' || c == '.' || ('0' <= c && c <= '9') {
		if t, ok := parseEpoch(s); ok {
			return t, true
		}
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// timestampLayouts are tried in order after RFC 3339; a layout without a zone
// parses as UTC. time.Parse accepts fractional seconds after the seconds
// field of any of them.
var timestampLayouts = []string{
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05Z07",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"2006/01/02",
	time.RFC1123Z,
	time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	time.RFC850,
	time.ANSIC,
}

// parseEpoch reads a numeric Unix time; its magnitude tells the unit.
func parseEpoch(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		a := n
		if a < 0 {
			a = -a
		}
		switch {
		case a < 1e11:
			return time.Unix(n, 0).UTC(), true
		case a < 1e14:
			return time.UnixMilli(n).UTC(), true
		case a < 1e17:
			return time.UnixMicro(n).UTC(), true
		}
		return time.Unix(0, n).UTC(), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	a := math.Abs(f)
	var ns float64
	switch {
	case a < 1e11:
		ns = f * 1e9
	case a < 1e14:
		ns = f * 1e6
	case a < 1e17:
		ns = f * 1e3
	default:
		ns = f
	}
	if math.Abs(ns) >= math.MaxInt64 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(ns)).UTC(), true
}
