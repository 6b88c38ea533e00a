package posthog

import (
	"testing"
	"time"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UTC()
}

func TestEventTime(t *testing.T) {
	now := mustTime(t, "2023-09-15T09:15:02.328551Z")
	f := func(ev RawEvent, sentAt, want string) {
		t.Helper()
		var s time.Time
		if sentAt != "" {
			s = mustTime(t, sentAt)
		}
		got := EventTime(&ev, s, now)
		if !got.Equal(mustTime(t, want)) || got.Location() != time.UTC {
			t.Fatalf("EventTime(%+v, sent_at %q) = %s, want %s", ev, sentAt, got.Format(time.RFC3339Nano), want)
		}
	}
	// no sent_at: the timestamp as is
	f(RawEvent{Timestamp: "2023-09-15T09:00:00Z"}, "", "2023-09-15T09:00:00Z")
	f(RawEvent{Timestamp: "2023-09-15T11:00:00+02:00"}, "", "2023-09-15T09:00:00Z")
	// clock skew: timestamp − (sent_at − now); a client 10 s fast moves the event 10 s earlier
	f(RawEvent{Timestamp: "2023-09-15T09:15:12.328551Z"}, "2023-09-15T09:15:12.328551Z", "2023-09-15T09:15:02.328551Z")
	f(RawEvent{Timestamp: "2023-09-15T09:15:00Z"}, "2023-09-15T09:15:12.328551Z", "2023-09-15T09:14:50Z")
	f(RawEvent{Timestamp: "2023-09-15T09:15:00Z"}, "2023-09-15T09:14:52.328551Z", "2023-09-15T09:15:10Z")
	// dump line 2: posthog-js timestamp with the query's _ as sent_at
	f(RawEvent{Timestamp: "2023-09-15T09:15:02.325Z"}, "2023-09-15T09:15:02.325Z", "2023-09-15T09:15:02.328551Z")
	// $ignore_sent_at drops the correction
	f(RawEvent{Timestamp: "2023-09-15T09:15:00Z", IgnoreSentAt: true}, "2023-09-15T09:15:12.328551Z", "2023-09-15T09:15:00Z")
	// offset wins over timestamp and sent_at
	f(RawEvent{Offset: 3026, HasOffset: true}, "", "2023-09-15T09:14:59.302551Z")
	f(RawEvent{Timestamp: "2020-01-01T00:00:00Z", Offset: 308, HasOffset: true}, "2023-09-15T09:15:12Z", "2023-09-15T09:15:02.020551Z")
	f(RawEvent{Offset: 0, HasOffset: true}, "", "2023-09-15T09:15:02.328551Z")
	// nothing usable, or an unparseable timestamp: now
	f(RawEvent{}, "", "2023-09-15T09:15:02.328551Z")
	f(RawEvent{}, "2023-09-15T09:15:12Z", "2023-09-15T09:15:02.328551Z")
	f(RawEvent{Timestamp: "not a date"}, "2023-09-15T09:15:12Z", "2023-09-15T09:15:02.328551Z")
	// more than 23 h in the future: now; exactly 23 h is kept
	f(RawEvent{Timestamp: "2023-09-16T08:15:02.328552Z"}, "", "2023-09-15T09:15:02.328551Z")
	f(RawEvent{Timestamp: "2023-09-16T08:15:02.328551Z"}, "", "2023-09-16T08:15:02.328551Z")
	f(RawEvent{Offset: -24 * 3600 * 1000, HasOffset: true}, "", "2023-09-15T09:15:02.328551Z")
	f(RawEvent{Timestamp: "9999-12-31T23:59:59Z"}, "", "2023-09-15T09:15:02.328551Z")
	// a year outside 0..9999: the Unix epoch
	f(RawEvent{Offset: 1 << 62, HasOffset: true}, "", "1970-01-01T00:00:00Z")
	f(RawEvent{Offset: 70000 * 365 * 86400 * 1000, HasOffset: true}, "", "1970-01-01T00:00:00Z")
	f(RawEvent{Offset: -1 << 62, HasOffset: true}, "", "2023-09-15T09:15:02.328551Z")
	// lenient formats
	f(RawEvent{Timestamp: "2023-09-15T09:00:00+01"}, "", "2023-09-15T08:00:00Z")
	f(RawEvent{Timestamp: "2023-04-24 06:34:00+00:00"}, "", "2023-04-24T06:34:00Z")
	f(RawEvent{Timestamp: "1694769302325"}, "", "2023-09-15T09:15:02.325Z")
}

func TestParseTimestamp(t *testing.T) {
	f := func(s, want string) {
		t.Helper()
		got, ok := ParseTimestamp(s)
		if want == "" {
			if ok {
				t.Fatalf("ParseTimestamp(%q) = %s, want failure", s, got)
			}
			return
		}
		if !ok || !got.Equal(mustTime(t, want)) {
			t.Fatalf("ParseTimestamp(%q) = %s, %v; want %s", s, got.Format(time.RFC3339Nano), ok, want)
		}
	}
	f("2024-04-17T14:40:56.900Z", "2024-04-17T14:40:56.9Z")
	f("2024-04-17T14:40:56.123456789Z", "2024-04-17T14:40:56.123456789Z")
	f("2023-04-24T06:34:00+00:00", "2023-04-24T06:34:00Z")
	f("2023-04-24T06:34:00-05:30", "2023-04-24T12:04:00Z")
	f("2023-04-24T06:34:00+02", "2023-04-24T04:34:00Z")
	f("2023-04-24T06:34:00-0200", "2023-04-24T08:34:00Z")
	f("2023-04-24T06:34:00.5", "2023-04-24T06:34:00.5Z") // civil, taken as UTC
	f("2023-04-24T06:34", "2023-04-24T06:34:00Z")
	f("2023-04-24 06:34:00", "2023-04-24T06:34:00Z")
	f("2023-04-24 06:34:00.25+01:00", "2023-04-24T05:34:00.25Z")
	f("2023-04-24 06:34:00 UTC", "2023-04-24T06:34:00Z")
	f("2023-04-24", "2023-04-24T00:00:00Z")
	f("2023/04/24", "2023-04-24T00:00:00Z")
	f("2023/04/24 06:34:00", "2023-04-24T06:34:00Z")
	f("Mon, 24 Apr 2023 06:34:00 +0000", "2023-04-24T06:34:00Z")
	f("Mon, 24 Apr 2023 06:34:00 GMT", "2023-04-24T06:34:00Z")
	f("1682318040", "2023-04-24T06:34:00Z")
	f("1682318040.5", "2023-04-24T06:34:00.5Z")
	f("1682318040000", "2023-04-24T06:34:00Z")
	f("1682318040000000", "2023-04-24T06:34:00Z")
	f("1682318040000000000", "2023-04-24T06:34:00Z")
	f("  2023-04-24T06:34:00Z ", "2023-04-24T06:34:00Z")
	f("", "")
	f("yesterday", "")
	f("2023-13-45T00:00:00Z", "")
	f("NaN", "")
	f("1e400", "")
}

func TestResolveSentAt(t *testing.T) {
	f := func(body, query, want string) {
		t.Helper()
		got, ok := ResolveSentAt(body, []byte(query))
		if want == "" {
			if ok {
				t.Fatalf("ResolveSentAt(%q, %q) = %s, want none", body, query, got)
			}
			return
		}
		if !ok || !got.Equal(mustTime(t, want)) {
			t.Fatalf("ResolveSentAt(%q, %q) = %s, %v; want %s", body, query, got, ok, want)
		}
	}
	f("", "", "")
	f("2024-04-17T14:40:56.900Z", "", "2024-04-17T14:40:56.9Z")
	f("2024-04-17T14:40:56.900Z", "_=1694769302325", "2024-04-17T14:40:56.9Z") // the body wins
	f("", "ip=1&_=1694769302325&ver=1.78.5", "2023-09-15T09:15:02.325Z")
	f("", "sent_at=1694769302325", "2023-09-15T09:15:02.325Z")
	f("", "_=1694769302", "")    // seconds: 1970 in ms, ignored
	f("", "_=1577836800000", "") // 2020-01-01: not after 2020
	f("", "_=1609459200000", "2021-01-01T00:00:00Z")
	f("", "_=abc&sent_at=1694769302325", "2023-09-15T09:15:02.325Z")
	f("garbage", "_=1694769302325", "2023-09-15T09:15:02.325Z")
	f("garbage", "", "")
}
