package posthog

import (
	"strings"
	"testing"
	"time"
)

// Seconds of 0001-01-01 and 9999-12-31T23:59:59 UTC: the years every layout
// can write.
const minYearSec, maxYearSec = -62135596800, 253402300799

// FuzzParseTimestamp checks ParseTimestamp against time.Parse: it answers in
// UTC, accepts every string that RFC 3339 or one of its layouts accepts (RFC
// 3339 with the same instant), and reads back any time written in RFC 3339
// (any zone) or in a zone-less layout (as UTC) as the same instant.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2023-09-15T09:15:02.328551Z", " 2023-09-15T11:00:00+02:00 ", "2023-09-15 09:15:02",
		"2023/09/15", "1694769302", "1694769302328", "1694769302.5", "Fri, 15 Sep 2023 09:15:02 +0000", "2023-09-15T09:15+0200", ""} {
		f.Add(s, int64(1694769302), uint32(328551000), int16(120))
	}
	f.Add("0001-01-01T00:00:00Z", int64(minYearSec), uint32(0), int16(-840))
	f.Add("9999-12-31T23:59:59.999999999Z", int64(maxYearSec), uint32(999999999), int16(840))
	f.Fuzz(func(t *testing.T, s string, sec int64, nsec uint32, offsetMin int16) {
		got, ok := ParseTimestamp(s)
		if ok && got.Location() != time.UTC {
			t.Fatalf("ParseTimestamp(%q) in %v, want UTC", s, got.Location())
		}
		trimmed := strings.TrimSpace(s)
		if want, err := time.Parse(time.RFC3339, trimmed); err == nil && (!ok || !got.Equal(want)) {
			t.Fatalf("ParseTimestamp(%q) = %v %v, time.Parse RFC 3339 = %v", s, got, ok, want)
		}
		for _, layout := range timestampLayouts {
			if _, err := time.Parse(layout, trimmed); err == nil && !ok {
				t.Fatalf("ParseTimestamp(%q) failed, time.Parse(%q) accepts it", s, layout)
			}
		}
		checkRoundTrip(t, sec, nsec, offsetMin)
	})
}

// checkRoundTrip writes one instant in the forms clients send and reads it
// back.
func checkRoundTrip(t *testing.T, sec int64, nsec uint32, offsetMin int16) {
	t.Helper()
	span := int64(maxYearSec - minYearSec + 1)
	sec = minYearSec + ((sec%span)+span)%span
	tm := time.Unix(sec, int64(nsec%1e9)).UTC()
	zone := time.FixedZone("", int(offsetMin)%(14*60+1)*60)
	if local := tm.In(zone); local.Year() >= 1 && local.Year() <= 9999 {
		if back, ok := ParseTimestamp(local.Format(time.RFC3339Nano)); !ok || !back.Equal(tm) {
			t.Fatalf("%s read back as %v %v", local.Format(time.RFC3339Nano), back, ok)
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05Z07:00"} {
		text := tm.Format(layout)
		if back, ok := ParseTimestamp(text); !ok || !back.Equal(tm.Truncate(precision(layout))) {
			t.Fatalf("%s (layout %q) read back as %v %v, want %v", text, layout, back, ok, tm)
		}
	}
}

// precision is the finest unit a layout writes.
func precision(layout string) time.Duration {
	if strings.Contains(layout, ".999999999") || layout == time.RFC3339Nano {
		return time.Nanosecond
	}
	return time.Second
}
