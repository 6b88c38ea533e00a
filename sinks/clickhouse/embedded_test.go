package clickhouse

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// requireChdb skips the test when libchdb cannot be loaded, except under
// CI=true, where it must be there.
func requireChdb(t testing.TB) {
	t.Helper()
	if _, err := loadChdb(); err != nil {
		testenv.Unavailable(t, "libchdb: %v", err)
	}
}

func openEmbedded(t *testing.T, dir string) *Embedded {
	t.Helper()
	e, err := OpenEmbedded(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// The embedded tests share the process's one chDB session, one at a time:
// none of them may run in parallel.

func TestEmbeddedMigrateInsertSnapshotReopen(t *testing.T) {
	requireChdb(t)
	dir := t.TempDir()
	ctx := testContext(t)
	e := openEmbedded(t, dir)
	if !strings.HasPrefix(e.Version(), "2") || !e.feat.DateTime64 {
		t.Fatalf("chdb version %s features %+v: want a modern engine", e.Version(), e.feat)
	}
	// Go's signal handlers survive chdb_connect: a nil dereference is still
	// a recoverable panic, not a crash of the test binary.
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		var p *int
		_ = *p
	}()
	for range 2 {
		if err := e.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, e, "SELECT count() FROM schema_migrations"); n != int64(len(migrations("hogsend", features{}))) {
		t.Fatalf("schema_migrations rows = %d, want one per migration", n)
	}
	if got := queryRow(t, e, "SELECT type FROM system.columns WHERE database = 'hogsend' AND table = 'user_events' AND name = 'occurred_at'"); got[0] != "DateTime64(3, 'UTC')" {
		t.Fatalf("occurred_at type = %q", got)
	}
	if got := queryRow(t, e, "SELECT type FROM system.columns WHERE database = 'hogsend' AND table = 'user_events' AND name = 'event'"); got[0] != "LowCardinality(String)" {
		t.Fatalf("event type = %q", got)
	}

	// A second session in the same process is refused.
	if _, err := OpenEmbedded(t.TempDir()); err == nil || !strings.Contains(err.Error(), "one per process") {
		t.Fatalf("second OpenEmbedded: err = %v, want one-session error", err)
	}

	want := writeSnapshotFixture(t, e)
	events := testEvents(100, 300)
	events[0].Properties = []byte("{\"s\":\"quote ' back\\\\slash \\t tab\",\"nul\":\"\\u0000\"}")
	events[0].Name = "weird\tname\nwith\\escapes'"
	events[0].DistinctID = "nul\x00byte\r\b\f"
	for range 2 { // re-inserted rows count once
		if err := e.InsertEvents(ctx, events); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, e, "SELECT count() FROM user_events FINAL"); n != 301 {
		t.Fatalf("events FINAL = %d, want 301", n)
	}
	got := queryRow(t, e, "SELECT event, properties, distinct_id, toString(value), toUnixTimestamp64Milli(occurred_at) FROM user_events WHERE id = toUUID('"+events[0].ID.String()+"')")
	if !slices.Equal(got, []string{events[0].Name, string(events[0].Properties), events[0].DistinctID, "100.5", itoa(events[0].OccurredAt)}) {
		t.Fatalf("odd event read back as %q", got)
	}
	snap, err := e.LoadSnapshot(ctx, 0, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want.Idempotency = append(want.Idempotency, claimsOf(events, 7*24*time.Hour)...)
	checkSnapshot(t, sortClaims(snap), sortClaims(want), 1)

	// Close and reopen on the same directory: the data is still there.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Ping(ctx); err == nil {
		t.Fatal("ping after close succeeded")
	}
	e2 := openEmbedded(t, dir)
	if err := e2.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, e2, "SELECT count() FROM user_events FINAL"); n != 301 {
		t.Fatalf("after reopen: events FINAL = %d, want 301", n)
	}
	snap2, err := e2.LoadSnapshot(ctx, 0, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, sortClaims(snap2), sortClaims(want), 1)
}

func TestEmbeddedWriterDrainsSpool(t *testing.T) {
	requireChdb(t)
	e := openEmbedded(t, t.TempDir())
	if err := e.Migrate(testContext(t)); err != nil {
		t.Fatal(err)
	}
	sp, r := newTestSpool(t)
	for i := range 100 {
		appendBatch(t, sp, i, 10)
	}
	w := NewWriter(e, r, WriterOptions{MaxRows: 250, MaxDelay: 20 * time.Millisecond, Logger: quietLogger()})
	runWriter(t, w)
	waitDrained(t, w, time.Minute)
	if n := queryInt(t, e, "SELECT count() FROM user_events FINAL"); n != 1000 {
		t.Fatalf("events = %d, want 1000", n)
	}
	if n := queryInt(t, e, "SELECT count() FROM contacts FINAL"); n != 10 {
		t.Fatalf("contacts = %d, want 10", n)
	}
}

func TestOpenEmbeddedWithoutLibrary(t *testing.T) {
	t.Setenv("CHDB_LIB_PATH", "/nonexistent/libchdb.so")
	_, err := OpenEmbedded(t.TempDir())
	if !errors.Is(err, ErrNoLibchdb) {
		t.Fatalf("err = %v, want ErrNoLibchdb", err)
	}
}

func claimsOf(events []canonical.Event, window time.Duration) []canonical.IdempotencyClaim {
	var out []canonical.IdempotencyClaim
	for _, e := range events {
		out = append(out, canonical.IdempotencyClaim{Key: e.IdempotencyKey, ExpiresAt: e.ReceivedAt + window.Milliseconds()})
	}
	return out
}

func sortClaims(s canonical.Snapshot) canonical.Snapshot {
	slices.SortFunc(s.Idempotency, func(a, b canonical.IdempotencyClaim) int { return strings.Compare(a.Key, b.Key) })
	return s
}
