package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func TestClassifyInsertError(t *testing.T) {
	f := func(err error, want failure) {
		t.Helper()
		if got := classifyInsertError(err); got != want {
			t.Fatalf("%v: got %s, want %s", err, got, want)
		}
	}
	wrap := func(err error) error { return fmt.Errorf("insert into hogsend.user_events: send: %w", err) }
	exc := func(code int32, msg string) error {
		return wrap(&proto.Exception{Code: code, Name: "DB::Exception", Message: msg})
	}

	// Transport and availability: retried.
	f(wrap(errors.New("dial tcp 127.0.0.1:9000: connect: connection refused")), failRetry)
	f(wrap(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), failRetry)
	f(wrap(io.EOF), failRetry)
	f(wrap(context.DeadlineExceeded), failRetry)
	f(wrap(context.Canceled), failRetry)
	f(exc(210, "Connection refused"), failRetry)
	f(exc(159, "Timeout exceeded: elapsed 60 seconds"), failRetry)
	f(exc(241, "Memory limit (total) exceeded"), failRetry)
	f(exc(252, "Too many parts (300). Merges are processing significantly slower than inserts"), failRetry)
	f(exc(394, "Query was cancelled"), failRetry)
	f(exc(202, "Too many simultaneous queries"), failRetry)
	f(exc(242, "Table is in readonly mode"), failRetry)
	f(errors.New("embedded clickhouse is closed"), failRetry)
	// Our bug, not the rows': a Go type the column does not take.
	f(wrap(appendError(&column.ColumnConverterError{Op: "Append", To: "UInt64", From: "[]string"})), failRetry)

	// Values refused: isolate.
	for _, code := range []int32{6, 27, 38, 41, 53, 69, 70, 72, 321, 407} {
		f(exc(code, "bad value"), failRows)
	}
	f(wrap(errors.New("Code: 69. DB::Exception: Too many digits (15 > 14) in decimal value: (at row 1)")), failRows) // libchdb
	f(wrap(errors.New("Code: 27. DB::Exception: Cannot parse input: expected '\\t' before: 'x': (at row 3)")), failRows)
	f(wrap(appendError(errors.New("value 100000000000000000 overflows Decimal64 (Decimal(14, 2)): value overflows 8-byte signed buffer"))), failRows)
	f(wrap(refused(errors.New("value 1000000000000000 does not fit Decimal(14, 2)"))), failRows)

	// Too many partitions in one block: insert smaller pieces.
	f(exc(252, "Too many partitions for single INSERT block (more than 100)."), failSplit)
	f(wrap(errors.New("Code: 252. DB::Exception: Too many partitions for single INSERT block (more than 100). The limit is controlled by 'max_partitions_per_insert_block' setting. (TOO_MANY_PARTS)")), failSplit)
}

func TestDecimalType(t *testing.T) {
	f := func(typ string, p, s int, ok bool) {
		t.Helper()
		gp, gs, gok := decimalType(typ)
		if gp != p || gs != s || gok != ok {
			t.Fatalf("%s: got %d %d %v", typ, gp, gs, gok)
		}
	}
	f("Nullable(Decimal(14, 2))", 14, 2, true)
	f("Decimal(9,4)", 9, 4, true)
	f("Nullable(Float64)", 0, 0, false)
	f("Decimal(2, 5)", 0, 0, false)
}

func TestValueColumnRefusesWhatDecimalCannotHold(t *testing.T) {
	f := func(v float64, ok bool) {
		t.Helper()
		e := testEvent(0)
		e.HasValue, e.Value = true, v
		_, err := valueColumn([]canonical.Event{e}, "Nullable(Decimal(14, 2))")
		if (err == nil) != ok || (err != nil && classifyInsertError(err) != failRows) {
			t.Fatalf("%g: err = %v", v, err)
		}
	}
	f(999_999_999_999.99, true)
	f(-999_999_999_999.99, true)
	f(0.004, true)
	f(999_999_999_999.995, false) // rounds to 13 integer digits
	f(1e12, false)
	f(-1e12, false)
	f(1e15, false)
	f(1e300, false)
	if _, err := valueColumn([]canonical.Event{{HasValue: true, Value: 1e300}}, "Nullable(Float64)"); err != nil {
		t.Fatalf("Float64 column: %v", err)
	}
}

// poisonSpool appends entries of per events each, events holding the ids of
// testEvent(entry*per + i), and returns the positions of the entries.
func poisonSpool(t *testing.T, sp *spool.Spool, entries, per int) []spool.Position {
	t.Helper()
	var pos []spool.Position
	for i := range entries {
		b := canonical.Batch{Events: testEvents(i*per, per)}
		p, err := sp.Append(context.Background(), canonical.AppendBatch(nil, &b))
		if err != nil {
			t.Fatal(err)
		}
		pos = append(pos, p)
	}
	return pos
}

func TestWriterDeadLettersRefusedRowsAndGoesOn(t *testing.T) {
	sp, r := newTestSpool(t)
	fb := newFakeBackend()
	const entries, per = 40, 25
	bad := []int{0, 333, 334, 999} // first, neighbours, last
	fb.poison = map[uuid.UUID]bool{}
	for _, i := range bad {
		fb.poison[testEvent(i).ID] = true
	}
	pos := poisonSpool(t, sp, entries, per)
	w := NewWriter(fb, r, WriterOptions{MaxRows: 1 << 20, MaxDelay: 20 * time.Millisecond, Logger: quietLogger()})
	runWriter(t, w)
	waitDrained(t, w, 10*time.Second)

	eventCalls, _, _, events := fb.snapshot()
	if len(events) != entries*per-len(bad) {
		t.Fatalf("inserted %d events, want %d", len(events), entries*per-len(bad))
	}
	for id, n := range events {
		if n != 1 || fb.poison[id] {
			t.Fatalf("event %s inserted %d times (poison %v)", id, n, fb.poison[id])
		}
	}
	// Bisection: about 2 inserts per level per bad row, not one per row.
	if eventCalls > 1+2*len(bad)*11 {
		t.Fatalf("%d event inserts to isolate %d bad rows of %d", eventCalls, len(bad), entries*per)
	}
	_, dead := fb.deadLetters()
	if len(dead) != len(bad) || w.DeadLettered() != uint64(len(bad)) {
		t.Fatalf("dead letters %d, DeadLettered() %d; want %d", len(dead), w.DeadLettered(), len(bad))
	}
	for k, d := range dead {
		i := bad[k]
		b, err := DecodeDeadLetterRecord(d.Record)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Events) != 1 || b.Events[0].ID != testEvent(i).ID || string(b.Events[0].Properties) != string(testEvent(i).Properties) {
			t.Fatalf("dead letter %d record = %+v, want event %d", k, b, i)
		}
		if d.Table != tableEvents || d.Pos != pos[i/per] || d.FailedAt == 0 ||
			!containsAll(d.Reason, "Decimal value is too big", testEvent(i).ID.String()) ||
			!containsAll(string(d.Row), `"id":"`+testEvent(i).ID.String()+`"`, `"event":"purchase"`) {
			t.Fatalf("dead letter %d = %+v (row %s), want event %d from entry %d at %v", k, d, d.Row, i, i/per, pos[i/per])
		}
	}
	if w.Rows() != uint64(entries*per-len(bad)) || w.Errors() != 0 || w.Batches() != 1 {
		t.Fatalf("rows %d errors %d batches %d", w.Rows(), w.Errors(), w.Batches())
	}
	if r.Committed() != pos[len(pos)-1] {
		t.Fatalf("committed %v, want %v", r.Committed(), pos[len(pos)-1])
	}
}

func TestWriterIsolationSurvivesOutages(t *testing.T) {
	sp, r := newTestSpool(t)
	fb := newFakeBackend()
	const entries, per = 8, 16
	fb.poison = map[uuid.UUID]bool{testEvent(77).ID: true}
	fb.failCalls = map[int]bool{3: true, 4: true} // mid-isolation
	fb.failDead = 3                               // and the dead-letter insert
	pos := poisonSpool(t, sp, entries, per)
	w := NewWriter(fb, r, WriterOptions{MaxRows: 1 << 20, MaxDelay: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Logger: quietLogger()})
	runWriter(t, w)
	waitFor(t, 10*time.Second, "failed dead-letter inserts", func() bool { c, _ := fb.deadLetters(); return c >= 2 })
	if got := r.Committed(); got != (spool.Position{}) {
		t.Fatalf("cursor committed to %v before the refused row was dead-lettered", got)
	}
	waitDrained(t, w, 10*time.Second)
	_, _, _, events := fb.snapshot()
	if len(events) != entries*per-1 {
		t.Fatalf("inserted %d events, want %d", len(events), entries*per-1)
	}
	for id, n := range events {
		if n != 1 {
			// Isolation resumed where the outage stopped it: no range twice.
			t.Fatalf("event %s inserted %d times", id, n)
		}
	}
	if _, dead := fb.deadLetters(); len(dead) != 1 || w.DeadLettered() != 1 || dead[0].Pos != pos[77/per] {
		t.Fatalf("dead letters %+v, DeadLettered() %d", dead, w.DeadLettered())
	}
	if w.Errors() != 5 || r.Committed() != pos[len(pos)-1] {
		t.Fatalf("errors %d (want 2 event + 3 dead-letter failures), committed %v", w.Errors(), r.Committed())
	}
}

func TestWriterDoesNotDeadLetterOnOutage(t *testing.T) {
	sp, r := newTestSpool(t)
	fb := newFakeBackend()
	fb.failEvents = true
	pos := poisonSpool(t, sp, 4, 4)
	w := NewWriter(fb, r, WriterOptions{MaxDelay: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Logger: quietLogger()})
	runWriter(t, w)
	waitFor(t, 10*time.Second, "failed inserts", func() bool { c, _, _, _ := fb.snapshot(); return c >= 5 })
	fb.mu.Lock()
	fb.failEvents = false
	fb.mu.Unlock()
	waitDrained(t, w, 10*time.Second)
	fb.mu.Lock()
	sizes := append([]int(nil), fb.eventSizes...)
	fb.mu.Unlock()
	for i, n := range sizes {
		if n != 16 {
			t.Fatalf("event insert %d sent %d rows: an outage must not be bisected (sizes %v)", i+1, n, sizes)
		}
	}
	calls, dead := fb.deadLetters()
	if _, _, _, ev := fb.snapshot(); len(ev) != 16 || len(dead) != 0 || calls != 0 || w.DeadLettered() != 0 || r.Committed() != pos[3] {
		t.Fatalf("events %d, dead letters %d (%d calls), committed %v", len(ev), len(dead), calls, r.Committed())
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
