package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeengine"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// memDeadLetters keeps dead letters in memory: the table itself is
// tested in sinks/clickhouse and through the binary.
type memDeadLetters struct {
	mu   sync.Mutex
	rows []DeadLetter
}

func (m *memDeadLetters) InsertEngineDeadLetters(_ context.Context, rows []DeadLetter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = append(m.rows, rows...)
	return nil
}

// LoadEngineDeadLetters is what FINAL ... WHERE replayed_at = 0 reads: the
// newest version of each call, if not replayed.
func (m *memDeadLetters) LoadEngineDeadLetters(context.Context) ([]DeadLetter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	newest := map[uuid.UUID]DeadLetter{}
	var order []uuid.UUID
	for _, r := range m.rows {
		old, ok := newest[r.Call]
		if !ok {
			order = append(order, r.Call)
		}
		if !ok || r.Version >= old.Version {
			newest[r.Call] = r
		}
	}
	var out []DeadLetter
	for _, id := range order {
		if r := newest[id]; r.ReplayedAt == 0 {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memDeadLetters) all() []DeadLetter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]DeadLetter(nil), m.rows...)
}

// rig is a spool, a fake engine and a hand-off between them.
type rig struct {
	t      *testing.T
	sp     *spool.Spool
	engine *fakeengine.Server
	client *Client
	dead   *memDeadLetters
	h      *HandOff
	reader *spool.Reader
	cancel context.CancelFunc
	done   chan error
}

func newRig(t *testing.T, opts Options) *rig {
	t.Helper()
	sp, err := spool.Open(spool.Options{Dir: t.TempDir(), Consumers: []string{SpoolConsumer}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	eng, err := fakeengine.New(fakeengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	client, err := NewClient(ClientOptions{URL: eng.URL(), APIKey: eng.MintKey("ingest"), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, sp: sp, engine: eng, client: client, dead: &memDeadLetters{}}
	r.start(opts)
	t.Cleanup(r.stop)
	return r
}

func (r *rig) start(opts Options) {
	var err error
	if r.reader, err = r.sp.Reader(SpoolConsumer); err != nil {
		r.t.Fatal(err)
	}
	opts.Client, opts.DeadLetters = r.client, r.dead
	if opts.RetryInitial == 0 {
		opts.RetryInitial = 10 * time.Millisecond
	}
	r.h = New(r.reader, opts)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- r.h.Run(ctx) }()
}

func (r *rig) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	if err := <-r.done; err != nil {
		r.t.Errorf("hand-off run: %v", err)
	}
	r.reader.Close()
	r.cancel = nil
}

// appendEvent spools one native event of userID with its engine call.
func (r *rig) appendEvent(userID string, contact uuid.UUID, name string, props string) canonical.Event {
	r.t.Helper()
	now := time.Now().UnixMilli()
	ev := canonical.Event{ID: uuid.Must(uuid.NewV7()), Name: name, UserID: userID, ContactID: contact,
		Properties: []byte(props), Groups: []byte(`{}`), Source: "api", OccurredAt: now, ReceivedAt: now}
	b := canonical.Batch{Events: []canonical.Event{ev}, Calls: []canonical.EngineCall{{
		ID: ev.ID, Kind: canonical.CallEvent, ContactID: contact, Body: []byte(fmt.Sprintf(`{"userId":%q}`, userID)), Awaited: true}}}
	if _, err := r.sp.Append(context.Background(), canonical.AppendBatch(nil, &b)); err != nil {
		r.t.Fatal(err)
	}
	return ev
}

// waitFor polls cond until it holds or 30 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHandOffDeliversOnceInOrder: every event reaches the engine once, and
// each contact's in spool order, with many contacts in flight at once; the
// cursor then stands after the last entry.
func TestHandOffDeliversOnceInOrder(t *testing.T) {
	r := newRig(t, Options{Concurrency: 8})
	const people, each = 20, 25
	contacts := make([]uuid.UUID, people)
	for p := range contacts {
		contacts[p] = uuid.Must(uuid.NewV7())
	}
	want := map[string][]string{}
	for i := range each {
		for p := range people {
			user := fmt.Sprintf("u%d", p)
			ev := r.appendEvent(user, contacts[p], fmt.Sprintf("step.%d", i), `{"i":1}`)
			want[user] = append(want[user], ev.ID.String())
		}
	}
	waitFor(t, "every event at the engine", func() bool { return len(r.engine.Events()) == people*each })
	got := map[string][]string{}
	for _, ev := range r.engine.Events() {
		got[ev.UserID] = append(got[ev.UserID], ev.IdempotencyKey)
		if ev.Source != "api" || ev.EventProperties["i"] != 1.0 {
			t.Fatalf("stored event %+v", ev)
		}
	}
	for user, ids := range want {
		if fmt.Sprint(got[user]) != fmt.Sprint(ids) {
			t.Fatalf("%s's events at the engine, in order:\n%v\nwant\n%v", user, got[user], ids)
		}
	}
	waitFor(t, "an empty window", func() bool { n, _ := r.h.Lag(); return n == 0 })
	if r.h.Delivered() != people*each || r.h.DeadLettered() != 0 {
		t.Fatalf("delivered %d dead-lettered %d", r.h.Delivered(), r.h.DeadLettered())
	}
	r.stop()
	if r.reader.Committed() == (spool.Position{}) || r.h.Backlog() != 0 {
		t.Fatalf("cursor %v backlog %d after delivering everything", r.reader.Committed(), r.h.Backlog())
	}
}

// TestHandOffHonoursRetryAfter: a 429 with Retry-After holds the record at
// least that long, then it is stored once.
func TestHandOffHonoursRetryAfter(t *testing.T) {
	r := newRig(t, Options{})
	r.engine.Script.Push(fakeads.Fault{Status: 429, Body: `{"error":"Rate limit exceeded"}`, Header: map[string]string{"Retry-After": "1"}})
	ev := r.appendEvent("u1", uuid.Must(uuid.NewV7()), "paid", `{}`)
	waitFor(t, "the event at the engine", func() bool { return r.engine.StoredCount(ev.ID.String()) == 1 })
	reqs := r.engine.Requests()
	if len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].Header.Get("Idempotency-Key") != ev.ID.String() {
		t.Fatalf("requests %+v", reqs)
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < time.Second {
		t.Fatalf("retried after %s, before the engine's Retry-After of 1 s", gap)
	}
	// The fake stores the event before the hand-off reads its answer.
	waitFor(t, "the delivery counted", func() bool { return r.h.Delivered() == 1 })
	if r.h.Retried() != 1 {
		t.Fatalf("retried %d", r.h.Retried())
	}
}

// TestHandOffOutage: with the engine unreachable the breaker opens and the
// attempts stop piling up; once it is back (its old connections dead),
// every record is stored once, in order, and the breaker closes.
func TestHandOffOutage(t *testing.T) {
	// The default 30 s backoff cap: lanes whose rounds of failures reach it
	// must still resume as soon as the breaker lets a probe through.
	r := newRig(t, Options{Concurrency: 4, BreakerOpenFor: 200 * time.Millisecond})
	r.engine.Stop()
	contact := uuid.Must(uuid.NewV7())
	var ids []string
	for i := range 200 {
		ids = append(ids, r.appendEvent("u1", contact, fmt.Sprintf("e%d", i), `{}`).ID.String())
	}
	waitFor(t, "the breaker to open", func() bool { return r.h.BreakerState() == "open" })
	waitFor(t, "the lag to show", func() bool { n, _ := r.h.Lag(); return n == 200 })
	probes := r.h.Attempts()
	waitFor(t, "failed probes past the backoff's doubling", func() bool { return r.h.Attempts() >= probes+8 })
	if err := r.engine.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every event at the engine", func() bool { return len(r.engine.Events()) == 200 })
	for i, ev := range r.engine.Events() {
		if ev.IdempotencyKey != ids[i] {
			t.Fatalf("event %d at the engine is %s, want %s", i, ev.IdempotencyKey, ids[i])
		}
	}
	waitFor(t, "the breaker to close", func() bool { return r.h.BreakerState() == "closed" })
}

// TestHandOffDeadLettersAndReplay: what the engine refuses for good is
// dead-lettered with its answer, the records after it still go, and a
// replay sends it again with its idempotency key.
func TestHandOffDeadLettersAndReplay(t *testing.T) {
	r := newRig(t, Options{})
	r.engine.Script.Push(fakeads.Fault{Status: 422, Body: `{"error":"nope"}`})
	// One contact: one lane, so the refusal meets the first event.
	contact := uuid.Must(uuid.NewV7())
	refused := r.appendEvent("u1", contact, "paid", `{}`)
	next := r.appendEvent("u1", contact, "paid", `{}`)
	waitFor(t, "the next event at the engine", func() bool { return r.engine.StoredCount(next.ID.String()) == 1 })
	waitFor(t, "the dead letter", func() bool { return r.h.DeadLettered() == 1 })
	rows := r.dead.all()
	if len(rows) != 1 || rows[0].Call != refused.ID || rows[0].Status != 422 || string(rows[0].Answer) != `{"error":"nope"}` ||
		rows[0].Method != "POST" || rows[0].Path != "/v1/events" || rows[0].IdempotencyKey != refused.ID.String() {
		t.Fatalf("dead letters %+v", rows)
	}
	res, err := Replay(context.Background(), r.client, r.dead, time.Now)
	if err != nil || res != (ReplayResult{Replayed: 1, Delivered: 1}) {
		t.Fatalf("replay = %+v, %v", res, err)
	}
	if r.engine.StoredCount(refused.ID.String()) != 1 {
		t.Fatal("the replayed event is not at the engine")
	}
	if left, _ := r.dead.LoadEngineDeadLetters(context.Background()); len(left) != 0 {
		t.Fatalf("dead letters left after a delivered replay: %+v", left)
	}
	// A replay the engine refuses again leaves it dead-lettered, once.
	r.engine.Script.Push(fakeads.Fault{Status: 422, Body: `{"error":"still no"}`})
	again := r.appendEvent("u3", uuid.Must(uuid.NewV7()), "paid", `{}`)
	waitFor(t, "the second dead letter", func() bool { return r.h.DeadLettered() == 2 })
	r.engine.Script.Push(fakeads.Fault{Status: 422, Body: `{"error":"never"}`})
	if res, err := Replay(context.Background(), r.client, r.dead, time.Now); err != nil || res != (ReplayResult{Replayed: 1, Refused: 1}) {
		t.Fatalf("second replay = %+v, %v", res, err)
	}
	left, _ := r.dead.LoadEngineDeadLetters(context.Background())
	if len(left) != 1 || left[0].Call != again.ID || string(left[0].Answer) != `{"error":"never"}` {
		t.Fatalf("dead letters after a refused replay: %+v", left)
	}
}

// TestHandOffResumesOnce: a hand-off stopped mid-way and started again
// sends the uncommitted records again, and the engine stores each once.
func TestHandOffResumesOnce(t *testing.T) {
	r := newRig(t, Options{Concurrency: 4})
	r.engine.Script.SetLatency(2 * time.Millisecond)
	var ids []string
	for i := range 300 {
		ids = append(ids, r.appendEvent(fmt.Sprintf("u%d", i%7), uuid.Must(uuid.NewV7()), "e", `{}`).ID.String())
	}
	waitFor(t, "some events at the engine", func() bool { return len(r.engine.Events()) >= 50 })
	r.stop()
	r.start(Options{Concurrency: 4})
	waitFor(t, "every event at the engine", func() bool { return len(r.engine.Events()) == 300 })
	for _, id := range ids {
		if n := r.engine.StoredCount(id); n != 1 {
			t.Fatalf("event %s stored %d times", id, n)
		}
	}
	if sent := r.engine.ReceivedOn("POST /v1/events"); sent < 300 {
		t.Fatalf("the engine received %d event requests, fewer than the events", sent)
	}
}

// TestAwaitedAnswers: the engine's answer to an awaited call reaches the
// client waiting for it, in sync mode; without sync only deletes' do.
func TestAwaitedAnswers(t *testing.T) {
	answers := NewAnswers()
	r := newRig(t, Options{Answers: answers, Sync: true})
	ev := r.appendEvent("u1", uuid.Must(uuid.NewV7()), "paid", `{}`)
	a, ok := answers.Await(context.Background(), ev.ID, 10*time.Second)
	if !ok || a.Status != 202 || string(a.Body) == "" {
		t.Fatalf("answer %+v, %v", a, ok)
	}
	r.stop()
	async := NewAnswers()
	r.start(Options{Answers: async})
	ev = r.appendEvent("u1", uuid.Must(uuid.NewV7()), "paid", `{}`)
	waitFor(t, "the event at the engine", func() bool { return r.engine.StoredCount(ev.ID.String()) == 1 })
	if _, ok := async.Await(context.Background(), ev.ID, 50*time.Millisecond); ok {
		t.Fatal("an event's answer was passed on without sync")
	}
}
