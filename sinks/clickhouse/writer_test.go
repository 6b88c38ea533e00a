package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

const consumer = "clickhouse"

func newTestSpool(t testing.TB) (*spool.Spool, *spool.Reader) {
	t.Helper()
	sp, err := spool.Open(spool.Options{Dir: t.TempDir(), SegmentBytes: 256 << 10, Consumers: []string{consumer}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	r, err := sp.Reader(consumer)
	if err != nil {
		t.Fatal(err)
	}
	return sp, r
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(testLogWriter{}, &slog.HandlerOptions{Level: slog.LevelError + 1}))
}

type testLogWriter struct{}

func (testLogWriter) Write(p []byte) (int, error) { return len(p), nil }

// appendBatch appends batch number i: perBatch events with ids derived from
// i, and one version of contact i%10.
func appendBatch(t testing.TB, sp *spool.Spool, i, perBatch int) spool.Position {
	t.Helper()
	pos, err := sp.Append(context.Background(), encodeBatch(i, perBatch))
	if err != nil {
		t.Fatalf("append batch %d: %v", i, err)
	}
	return pos
}

func encodeBatch(i, perBatch int) []byte {
	b := canonical.Batch{Events: testEvents(i*perBatch, perBatch)}
	b.Contacts = []canonical.Contact{{
		ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("contact", i%10))), ExternalID: fmt.Sprint("u", i%10),
		Properties: []byte(fmt.Sprintf(`{"batch":%d}`, i)), FirstSeenAt: base, LastSeenAt: base, CreatedAt: base, UpdatedAt: base,
		Version: uint64(i + 1),
	}}
	return canonical.AppendBatch(nil, &b)
}

// runWriter runs w until the test ends and checks Run returns nil.
func runWriter(t *testing.T, w *Writer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("writer Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("writer did not stop within 30s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitDrained(t *testing.T, w *Writer, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := w.WaitDrained(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWriterDrainsSpoolIntoServer(t *testing.T) {
	s, _ := newTestServer(t)
	sp, r := newTestSpool(t)
	const batches, per = 200, 5
	var last spool.Position
	for i := range batches {
		last = appendBatch(t, sp, i, per)
	}
	w := NewWriter(s, r, WriterOptions{MaxRows: 400, MaxDelay: 50 * time.Millisecond, Logger: quietLogger()})
	stop := runWriter(t, w)
	waitDrained(t, w, time.Minute)
	stop()

	if n := queryInt(t, s, "SELECT count() FROM user_events FINAL"); n != batches*per {
		t.Fatalf("events FINAL = %d, want %d", n, batches*per)
	}
	if n := queryInt(t, s, "SELECT uniqExact(id) FROM user_events"); n != batches*per {
		t.Fatalf("distinct event ids = %d, want %d", n, batches*per)
	}
	if n := queryInt(t, s, "SELECT count() FROM contacts FINAL"); n != 10 {
		t.Fatalf("contacts FINAL = %d, want 10", n)
	}
	// The newest version of contact 0 is the one batch 190 wrote.
	if got := queryRow(t, s, "SELECT properties FROM contacts FINAL WHERE external_id = 'u0'"); got[0] != `{"batch":190}` {
		t.Fatalf("contact u0 = %q, want the batch 190 version", got)
	}
	if got, want := w.Rows(), uint64(batches*(per+1)); got != want {
		t.Fatalf("Rows() = %d, want %d", got, want)
	}
	if w.Batches() < 3 || w.Errors() != 0 || w.Skipped() != 0 {
		t.Fatalf("batches %d errors %d skipped %d: want ≥3 flushes (MaxRows 400 of 1200 rows), no errors", w.Batches(), w.Errors(), w.Skipped())
	}
	if got := r.Committed(); got != last {
		t.Fatalf("committed cursor %v, want end of log %v", got, last)
	}
}

func TestWriterExactlyOnceAcrossClickHouseKill(t *testing.T) {
	s, ch := newTestServer(t)
	sp, r := newTestSpool(t)
	w := NewWriter(s, r, WriterOptions{MaxRows: 300, MaxDelay: 20 * time.Millisecond, MaxBackoff: 250 * time.Millisecond,
		InsertTimeout: 5 * time.Second, Logger: quietLogger()})
	runWriter(t, w)

	const per = 4
	var appended atomic.Int64
	var last atomic.Value
	stopAppend := make(chan struct{})
	appenderDone := make(chan struct{})
	go func() { // keeps appending through the whole outage
		defer close(appenderDone)
		for i := 0; ; i++ {
			select {
			case <-stopAppend:
				return
			default:
			}
			pos, err := sp.Append(context.Background(), encodeBatch(i, per))
			if err != nil {
				t.Errorf("append batch %d: %v", i, err)
				return
			}
			last.Store(pos)
			appended.Add(1)
			time.Sleep(time.Millisecond)
		}
	}()

	waitFor(t, 30*time.Second, "first rows inserted", func() bool { return w.Rows() > 500 })
	ch.Kill()
	killedAt := appended.Load()
	waitFor(t, 30*time.Second, "writer to see the outage", func() bool { return w.Errors() > 0 })
	waitFor(t, 30*time.Second, "appends during the outage", func() bool { return appended.Load() > killedAt+300 })
	if w.Drained() {
		t.Fatal("writer reports drained while ClickHouse is down")
	}
	committedDuringOutage := r.Committed()
	time.Sleep(300 * time.Millisecond)
	if r.Committed() != committedDuringOutage {
		t.Fatal("cursor advanced while ClickHouse was down")
	}
	ch.Restart(60 * time.Second)
	time.Sleep(200 * time.Millisecond)
	close(stopAppend)
	<-appenderDone
	waitDrained(t, w, 2*time.Minute)

	total := appended.Load() * per
	if got := queryInt(t, s, "SELECT count() FROM user_events FINAL"); got != total {
		t.Fatalf("events FINAL = %d, want %d appended", got, total)
	}
	if got := queryInt(t, s, "SELECT uniqExact(id) FROM user_events"); got != total {
		t.Fatalf("distinct ids = %d, want %d", got, total)
	}
	if got := queryInt(t, s, "SELECT count() FROM user_events"); got < total {
		t.Fatalf("raw rows = %d < %d appended: rows lost", got, total)
	}
	if got := r.Committed(); got != last.Load().(spool.Position) {
		t.Fatalf("committed %v, want end of log %v", got, last.Load())
	}
	// An outage is not the rows' fault: nothing may be dead-lettered.
	if n := queryInt(t, s, "SELECT count() FROM dead_letters"); n != 0 || w.DeadLettered() != 0 {
		t.Fatalf("dead letters after an outage: %d rows, DeadLettered() = %d; want none", n, w.DeadLettered())
	}
	t.Logf("appended %d batches (%d events, %d during the outage); writer: %d flushes, %d failed attempts",
		appended.Load(), total, (appended.Load()-killedAt)*per, w.Batches(), w.Errors())
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeBackend records inserts and can be told to fail event inserts: all
// of them (an outage), the n-th call (failCalls), or those holding a poison
// event (refused like ClickHouse refuses a bad value, nothing inserted).
type fakeBackend struct {
	Backend // unused methods panic

	mu           sync.Mutex
	failEvents   bool
	failCalls    map[int]bool       // event insert calls (1-based) that fail with a transport error
	poison       map[uuid.UUID]bool // events refused with ARGUMENT_OUT_OF_BOUND
	failDead     int                // dead-letter inserts still to fail with a transport error
	eventCalls   int
	eventSizes   []int // rows per event insert call
	contactCalls int
	deadCalls    int
	events       map[uuid.UUID]int
	contacts     int
	dead         []DeadLetter
}

func newFakeBackend() *fakeBackend { return &fakeBackend{events: map[uuid.UUID]int{}} }

func (f *fakeBackend) InsertEvents(_ context.Context, rows []canonical.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eventCalls++
	f.eventSizes = append(f.eventSizes, len(rows))
	if f.failEvents || f.failCalls[f.eventCalls] {
		return errors.New("connection refused")
	}
	for _, e := range rows {
		if f.poison[e.ID] {
			return fmt.Errorf("insert into hogsend.user_events: send: %w",
				&proto.Exception{Code: 69, Name: "DB::Exception", Message: "Decimal value is too big: event " + e.ID.String()})
		}
	}
	for _, e := range rows {
		f.events[e.ID]++
	}
	return nil
}

func (f *fakeBackend) InsertContacts(_ context.Context, rows []canonical.Contact) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.contactCalls++
	f.contacts += len(rows)
	return nil
}

func (f *fakeBackend) InsertDeadLetters(_ context.Context, rows []DeadLetter) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deadCalls++
	if f.failDead > 0 {
		f.failDead--
		return errors.New("write: connection reset by peer")
	}
	f.dead = append(f.dead, rows...)
	return nil
}

func (f *fakeBackend) InsertAliases(context.Context, []canonical.Alias) error        { return nil }
func (f *fakeBackend) InsertAPIKeys(context.Context, []canonical.APIKey) error       { return nil }
func (f *fakeBackend) InsertLists(context.Context, []canonical.ListMembership) error { return nil }

func (f *fakeBackend) deadLetters() (calls int, rows []DeadLetter) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deadCalls, append([]DeadLetter(nil), f.dead...)
}

func (f *fakeBackend) snapshot() (eventCalls, contactCalls, contacts int, events map[uuid.UUID]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev := make(map[uuid.UUID]int, len(f.events))
	for k, v := range f.events {
		ev[k] = v
	}
	return f.eventCalls, f.contactCalls, f.contacts, ev
}

func TestWriterRetriesSameRowsAndNeverCommitsEarly(t *testing.T) {
	sp, r := newTestSpool(t)
	fb := newFakeBackend()
	fb.failEvents = true
	for i := range 10 {
		appendBatch(t, sp, i, 2)
	}
	w := NewWriter(fb, r, WriterOptions{MaxRows: 1000, MaxDelay: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Logger: quietLogger()})
	runWriter(t, w)
	waitFor(t, 10*time.Second, "three failed event inserts", func() bool { c, _, _, _ := fb.snapshot(); return c >= 3 })
	if got := r.Committed(); got != (spool.Position{}) {
		t.Fatalf("cursor committed to %v while inserts fail", got)
	}
	_, contactCalls, contacts, _ := fb.snapshot()
	if contactCalls != 1 || contacts != 10 {
		t.Fatalf("contacts inserted %d times (%d rows): a retry must not resend tables already in", contactCalls, contacts)
	}
	fb.mu.Lock()
	fb.failEvents = false
	fb.mu.Unlock()
	waitDrained(t, w, 10*time.Second)
	_, _, _, events := fb.snapshot()
	if len(events) != 20 {
		t.Fatalf("inserted %d distinct events, want 20", len(events))
	}
	for id, n := range events {
		if n != 1 {
			t.Fatalf("event %s inserted %d times", id, n)
		}
	}
	if w.Errors() < 3 || w.Rows() != 30 || w.Batches() != 1 {
		t.Fatalf("errors %d rows %d batches %d; want ≥3, 30, 1", w.Errors(), w.Rows(), w.Batches())
	}
}

func TestWriterResumesFromCursorAfterCancel(t *testing.T) {
	sp, r := newTestSpool(t)
	fb := newFakeBackend()
	for i := range 5 {
		appendBatch(t, sp, i, 3)
	}
	// Nothing is due: MaxRows and MaxDelay are out of reach.
	w := NewWriter(fb, r, WriterOptions{MaxRows: 1 << 20, MaxDelay: time.Hour, Logger: quietLogger()})
	stop := runWriter(t, w)
	time.Sleep(100 * time.Millisecond)
	stop()
	if c, _, _, ev := fb.snapshot(); c != 0 || len(ev) != 0 || r.Committed() != (spool.Position{}) {
		t.Fatalf("cancelled writer inserted %d events in %d calls / committed %v; want nothing", len(ev), c, r.Committed())
	}
	// A new Run on the same reader starts again at the committed cursor.
	w2 := NewWriter(fb, r, WriterOptions{MaxDelay: 10 * time.Millisecond, Logger: quietLogger()})
	runWriter(t, w2)
	waitDrained(t, w2, 10*time.Second)
	if _, _, contacts, ev := fb.snapshot(); len(ev) != 15 || contacts != 5 {
		t.Fatalf("after resume: %d events, %d contacts; want 15, 5", len(ev), contacts)
	}
}

func TestWriterSkipsUndecodableEntries(t *testing.T) {
	sp, r := newTestSpool(t)
	fb := newFakeBackend()
	appendBatch(t, sp, 0, 2)
	if _, err := sp.Append(context.Background(), []byte("not a canonical batch")); err != nil {
		t.Fatal(err)
	}
	appendBatch(t, sp, 1, 2)
	w := NewWriter(fb, r, WriterOptions{MaxDelay: 10 * time.Millisecond, Logger: quietLogger()})
	runWriter(t, w)
	waitDrained(t, w, 10*time.Second)
	if _, _, _, ev := fb.snapshot(); len(ev) != 4 || w.Skipped() != 1 {
		t.Fatalf("events %d skipped %d; want 4 and 1", len(ev), w.Skipped())
	}
}

func TestWriterFlushesPendingWhenSpoolCloses(t *testing.T) {
	sp, r := newTestSpool(t)
	fb := newFakeBackend()
	appendBatch(t, sp, 0, 3)
	w := NewWriter(fb, r, WriterOptions{MaxRows: 1 << 20, MaxDelay: time.Hour, Logger: quietLogger()})
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after spool close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the spool closed")
	}
	if _, _, _, ev := fb.snapshot(); len(ev) != 3 {
		t.Fatalf("flushed %d events on close, want 3", len(ev))
	}
}

// TestWriterFlushesAtMaxBytes: the byte bound alone makes inserts due, one
// per entry when every entry passes it, with rows and delay out of reach.
func TestWriterFlushesAtMaxBytes(t *testing.T) {
	sp, r := newTestSpool(t)
	fb := newFakeBackend()
	for i := range 5 {
		appendBatch(t, sp, i, 3)
	}
	w := NewWriter(fb, r, WriterOptions{MaxRows: 1 << 20, MaxBytes: 1, MaxDelay: time.Hour, Logger: quietLogger()})
	runWriter(t, w)
	waitDrained(t, w, 10*time.Second)
	if _, _, contacts, ev := fb.snapshot(); len(ev) != 15 || contacts != 5 || w.Batches() != 5 {
		t.Fatalf("%d events, %d contacts in %d batches; want 15, 5 in 5", len(ev), contacts, w.Batches())
	}
}
