package clickhouse

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// testWriterDeadLettersPoison drains a spool whose third entry holds an
// event with a value Decimal(14, 2) cannot hold into b: every other event is
// stored, the bad one is in dead_letters with the reason, and the cursor is
// at the end of the log.
func testWriterDeadLettersPoison(t *testing.T, b Backend) {
	const entries, per = 6, 5
	const bad = 2*per + 3
	sp, r := newTestSpool(t)
	w := NewWriter(b, r, WriterOptions{MaxRows: 1000, MaxDelay: 20 * time.Millisecond, Logger: quietLogger()})
	runWriter(t, w)
	var pos []spool.Position
	for i := range entries {
		batch := canonical.Batch{Events: testEvents(i*per, per)}
		for k := range batch.Events {
			if i*per+k == bad {
				batch.Events[k].HasValue, batch.Events[k].Value = true, 1e15
			}
		}
		p, err := sp.Append(context.Background(), canonical.AppendBatch(nil, &batch))
		if err != nil {
			t.Fatal(err)
		}
		pos = append(pos, p)
		if i == 3 { // later entries come in later flushes
			waitDrained(t, w, time.Minute)
		}
	}
	waitDrained(t, w, time.Minute)

	const total = entries * per
	if n := queryInt(t, b, "SELECT count() FROM user_events FINAL"); n != total-1 {
		t.Fatalf("events FINAL = %d, want %d", n, total-1)
	}
	badID := testEvent(bad).ID.String()
	if n := queryInt(t, b, "SELECT count() FROM user_events WHERE id = toUUID('"+badID+"')"); n != 0 {
		t.Fatalf("refused event stored %d times", n)
	}
	if n := queryInt(t, b, "SELECT count() FROM dead_letters"); n != 1 {
		t.Fatalf("dead_letters rows = %d, want 1", n)
	}
	got := queryRow(t, b, "SELECT `table`, reason, row, record, spool_segment, spool_offset, toUInt32(failed_at) > 0 FROM dead_letters")
	t.Logf("dead letter: table %s reason %q\nrow %s", got[0], got[1], got[2])
	want := pos[bad/per]
	if got[0] != tableEvents || got[4] != itoa(int64(want.Segment)) || got[5] != itoa(want.Offset) || got[6] != "1" {
		t.Fatalf("dead letter %q, want table %s at %v", got, tableEvents, want)
	}
	if reason := strings.ToLower(got[1]); !strings.Contains(reason, "decimal") {
		t.Fatalf("reason %q does not name the problem", got[1])
	}
	if !containsAll(got[2], `"id":"`+badID+`"`, `"value":"1000000000000000.00"`) {
		t.Fatalf("row %s", got[2])
	}
	if v := queryRow(t, b, "SELECT visitParamExtractString(row, 'value') FROM dead_letters"); v[0] != "1000000000000000.00" {
		t.Fatalf("row not queryable as JSON: value = %q", v)
	}
	rec, err := DecodeDeadLetterRecord(got[3])
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Events) != 1 || rec.Events[0].ID.String() != badID || rec.Events[0].Value != 1e15 || !rec.Events[0].HasValue {
		t.Fatalf("record = %+v", rec)
	}
	if r.Committed() != pos[len(pos)-1] {
		t.Fatalf("committed %v, want end of log %v", r.Committed(), pos[len(pos)-1])
	}
	if w.DeadLettered() != 1 || w.Rows() != total-1 || w.Errors() != 0 {
		t.Fatalf("DeadLettered %d Rows %d Errors %d; want 1, %d, 0", w.DeadLettered(), w.Rows(), w.Errors(), total-1)
	}
}

func TestServerWriterDeadLettersPoison(t *testing.T) {
	s, _ := newTestServer(t)
	testWriterDeadLettersPoison(t, s)
}

func TestEmbeddedWriterDeadLettersPoison(t *testing.T) {
	requireChdb(t)
	e := openEmbedded(t, t.TempDir())
	if err := e.Migrate(testContext(t)); err != nil {
		t.Fatal(err)
	}
	testWriterDeadLettersPoison(t, e)
	if err := e.exec(testContext(t), "TRUNCATE TABLE user_events"); err != nil {
		t.Fatal(err)
	}

	// Modern engines refuse one insert block spanning more than 100
	// partitions (months); the writer inserts it in pieces, losing nothing.
	sp, r := newTestSpool(t)
	events := testEvents(0, 300)
	for i := range events {
		events[i].OccurredAt = base - int64(i)*31*86_400_000
	}
	if _, err := sp.Append(context.Background(), canonical.AppendBatch(nil, &canonical.Batch{Events: events})); err != nil {
		t.Fatal(err)
	}
	w := NewWriter(e, r, WriterOptions{MaxDelay: 20 * time.Millisecond, Logger: quietLogger()})
	runWriter(t, w)
	waitDrained(t, w, time.Minute)
	if n := queryInt(t, e, "SELECT count() FROM user_events FINAL"); n != 300 {
		t.Fatalf("events across 300 months = %d, want 300", n)
	}
	if n := queryInt(t, e, "SELECT count() FROM dead_letters"); n != 1 || w.DeadLettered() != 0 {
		t.Fatalf("dead letters %d (DeadLettered %d): splitting an insert must dead-letter nothing", n-1, w.DeadLettered())
	}
}
