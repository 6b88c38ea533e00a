package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newTestServer starts a clickhouse-server and returns a migrated Server on it.
func newTestServer(t testing.TB) (*Server, *testenv.Process) {
	t.Helper()
	ch := testenv.ClickHouse(t)
	s, err := OpenServer(testContext(t), ch.ClickHouseURL("hogsend"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(testContext(t)); err != nil {
		t.Fatal(err)
	}
	return s, ch
}

// queryInt runs a query returning one integer.
func queryInt(t testing.TB, b Backend, sql string) int64 {
	t.Helper()
	rows, err := b.Query(testContext(t), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: want one value, got %q", sql, rows)
	}
	n, err := strconv.ParseInt(rows[0][0], 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// queryRow runs a query that must return exactly one row.
func queryRow(t testing.TB, b Backend, sql string) []string {
	t.Helper()
	rows, err := b.Query(testContext(t), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if len(rows) != 1 {
		t.Fatalf("%s: want one row, got %d: %q", sql, len(rows), rows)
	}
	return rows[0]
}

// base is a fixed time with a millisecond part, to see precision handling.
const base = int64(1_700_000_000_123)

func testEvent(i int) canonical.Event {
	return canonical.Event{
		ID:             uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("event", i))),
		Name:           "purchase",
		UserID:         fmt.Sprintf("user-%d", i%7),
		ContactID:      uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("contact", i%7))),
		Properties:     []byte(fmt.Sprintf(`{"i":%d,"plan":"pro"}`, i)),
		HasValue:       i%2 == 0,
		Value:          float64(i) + 0.5,
		Currency:       "EUR",
		Groups:         []byte(`{}`),
		Source:         "api",
		IdempotencyKey: fmt.Sprintf("idem-%d", i),
		DistinctID:     fmt.Sprintf("d-%d", i),
		Lib:            "posthog-node",
		IP:             "203.0.113.7",
		OccurredAt:     base + int64(i)*1000,
		ReceivedAt:     base + int64(i)*1000 + 5,
	}
}

func testEvents(from, n int) []canonical.Event {
	out := make([]canonical.Event, n)
	for i := range out {
		out[i] = testEvent(from + i)
	}
	return out
}

// truncateTo drops what a store of the given precision (ms) cannot hold.
func truncateTo(ms, precision int64) int64 { return ms - ms%precision }
