package native

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// zodDatetime is zod 4's default z.string().datetime() pattern (no offset,
// no local time, any precision), written from its source independently of
// ParseISODatetime: the valid calendar dates, 24-hour times, Z only.
var zodDatetime = regexp.MustCompile(`^((?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8])))` +
	`T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d+))?)?Z$`)

// zodMillis is the Unix ms of a string zodDatetime matched, fractions
// past the millisecond cut off.
func zodMillis(m []string) int64 {
	atoi := func(s string) int {
		n, _ := strconv.Atoi(s)
		return n
	}
	date := m[1]
	ns := 0
	if frac := m[5]; frac != "" {
		frac = (frac + "000000000")[:9]
		ns = atoi(frac)
	}
	t := time.Date(atoi(date[:4]), time.Month(atoi(date[5:7])), atoi(date[8:10]), atoi(m[2]), atoi(m[3]), atoi(m[4]), ns, time.UTC)
	return t.UnixMilli()
}

// FuzzParseISODatetime: ParseISODatetime accepts exactly what zod's
// pattern accepts, and reads the same instant from it.
func FuzzParseISODatetime(f *testing.F) {
	for _, s := range []string{
		"2024-02-29T12:30Z", "2023-02-29T12:30Z", "2024-01-31T23:59:59Z", "2024-04-31T00:00Z",
		"2024-06-01T10:00:00.123456789123Z", "2024-06-01T10:00:00.Z", "2024-06-01T24:00Z",
		"1900-02-29T00:00Z", "2000-02-29T00:00:00.5Z", "0001-01-01T00:00Z", "2024-06-01T10:00+01:00",
		"2024-06-01 10:00Z", "2024-06-01T10:00:60Z", "0000-01-01T0:00:00.00Z", "2024-06-01T10:00:0Z",
		"2024-06-01T1:00Z", "2024-6-01T10:00Z", "+024-06-01T10:00Z", "2024-06-01T10:00:00.1234567891234Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseISODatetime(s)
		m := zodDatetime.FindStringSubmatch(s)
		if ok != (m != nil) {
			t.Fatalf("ParseISODatetime(%q) ok = %v, zod's pattern matches = %v", s, ok, m != nil)
		}
		if ok {
			if want := zodMillis(m); got != want {
				t.Fatalf("ParseISODatetime(%q) = %d, want %d", s, got, want)
			}
		}
	})
}
