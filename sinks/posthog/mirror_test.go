package posthog

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/fakeposthog"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

const token = "phc_mirror_test"

// memDeadLetters keeps dead letters in memory as the table's FINAL read
// sees them; the table itself is tested in sinks/clickhouse and through the
// binary.
type memDeadLetters struct {
	mu   sync.Mutex
	rows []DeadLetter
}

func (m *memDeadLetters) InsertPostHogDeadLetters(_ context.Context, rows []DeadLetter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = append(m.rows, rows...)
	return nil
}

func (m *memDeadLetters) LoadPostHogDeadLetters(context.Context) ([]DeadLetter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	newest := map[string]DeadLetter{}
	var order []string
	for _, r := range m.rows {
		old, ok := newest[r.UUID]
		if !ok {
			order = append(order, r.UUID)
		}
		if !ok || r.Version >= old.Version {
			newest[r.UUID] = r
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

type rig struct {
	t      *testing.T
	sp     *spool.Spool
	ph     *fakeposthog.Server
	client *Client
	dead   *memDeadLetters
	m      *Mirror
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
	ph, err := fakeposthog.New(fakeposthog.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ph.Close)
	client, err := NewClient(ClientOptions{URL: ph.URL(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, sp: sp, ph: ph, client: client, dead: &memDeadLetters{}}
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
	if opts.MaxDelay == 0 {
		opts.MaxDelay = 20 * time.Millisecond
	}
	r.m = New(r.reader, opts)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- r.m.Run(ctx) }()
}

func (r *rig) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	if err := <-r.done; err != nil {
		r.t.Errorf("mirror run: %v", err)
	}
	r.reader.Close()
	r.cancel = nil
}

// appendCaptures spools one entry of n capture events of distinctID.
func (r *rig) appendCaptures(n int, distinctID string, historical bool) []canonical.Event {
	r.t.Helper()
	now := time.Now().UnixMilli()
	var b canonical.Batch
	for i := range n {
		b.Events = append(b.Events, canonical.Event{
			ID: uuid.Must(uuid.NewV7()), Name: "$pageview", DistinctID: distinctID, UserID: distinctID,
			Properties: []byte(fmt.Sprintf(`{"i":%d,"$ip":"6.6.6.6","$current_url":"https://a.example/"}`, i)),
			Groups:     []byte(`{}`), Source: "posthog", IP: "203.0.113.9", Token: token, Historical: historical,
			OccurredAt: now - int64(i), ReceivedAt: now, TopLevel: []byte(`{"$set":{"plan":"pro"}}`),
		})
	}
	if _, err := r.sp.Append(context.Background(), canonical.AppendBatch(nil, &b)); err != nil {
		r.t.Fatal(err)
	}
	return b.Events
}

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

// TestMirrorDeliversOnce: every captured event reaches PostHog once, in
// gzip batches, with its uuid, name, distinct id, time and properties, $ip
// set to the client's address, and imports flagged as imports.
func TestMirrorDeliversOnce(t *testing.T) {
	r := newRig(t, Options{BatchEvents: 100})
	var sent []canonical.Event
	for i := range 24 {
		sent = append(sent, r.appendCaptures(50, fmt.Sprintf("d%d", i%5), i == 23)...)
	}
	waitFor(t, "every event at PostHog", func() bool { return r.ph.Count() == len(sent) })
	if d := r.ph.Duplicates(); d != 0 {
		t.Fatalf("%d events sent twice", d)
	}
	for _, ev := range sent {
		got, ok := r.ph.Event(ev.ID.String())
		wantTime := time.UnixMilli(ev.OccurredAt).UTC().Format("2006-01-02T15:04:05.000Z")
		if !ok || got.Event != "$pageview" || got.DistinctID != ev.DistinctID || got.Timestamp != wantTime ||
			got.IP != "203.0.113.9" || got.Token != token || got.Historical != ev.Historical || got.Properties["$current_url"] != "https://a.example/" {
			t.Fatalf("event %s at PostHog: %+v (found %v)", ev.ID, got, ok)
		}
	}
	// PostHog counts the events before the mirror reads its answers.
	waitFor(t, "an empty window", func() bool { n, _ := r.m.Lag(); return n == 0 })
	if n := r.m.Batches(); n < 12 {
		t.Fatalf("%d batches for 1200 events of at most 100", n)
	}
	r.stop()
	if r.reader.Committed() == (spool.Position{}) || r.m.Backlog() != 0 {
		t.Fatalf("cursor %v backlog %d after delivering everything", r.reader.Committed(), r.m.Backlog())
	}
}

// TestMirrorOutage: with PostHog unreachable the breaker opens; once it is
// back, every event reaches it once.
func TestMirrorOutage(t *testing.T) {
	// The default 30 s backoff cap: batches whose rounds of failures reach
	// it must still go as soon as the breaker lets a probe through.
	r := newRig(t, Options{BreakerOpenFor: 200 * time.Millisecond})
	r.appendCaptures(5, "d1", false)
	waitFor(t, "a first delivery (pooled connections)", func() bool { return r.ph.Count() == 5 })
	r.ph.Stop()
	n := 5
	for range 20 {
		n += len(r.appendCaptures(30, "d1", false))
	}
	waitFor(t, "the breaker to open", func() bool { return r.m.BreakerState() == "open" })
	probes := r.m.Attempts()
	waitFor(t, "failed probes past the backoff's doubling", func() bool { return r.m.Attempts() >= probes+8 })
	if err := r.ph.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every event at PostHog", func() bool { return r.ph.Count() == n })
	waitFor(t, "the breaker to close", func() bool { return r.m.BreakerState() == "closed" })
}

// TestMirrorHalvesToTheRefusedEvent: a batch PostHog refuses for one event
// is halved until that event alone is dead-lettered; the rest arrive. A
// replay sends it again once PostHog takes it.
func TestMirrorHalvesToTheRefusedEvent(t *testing.T) {
	r := newRig(t, Options{BatchEvents: 64})
	evs := r.appendCaptures(64, "d1", false)
	bad := evs[37].ID.String()
	r.ph.RefuseEvent(bad, 400, `{"type":"validation_error","code":"invalid_payload"}`)
	waitFor(t, "the dead letter", func() bool { return r.m.DeadLettered() == 1 })
	waitFor(t, "the batch delivered", func() bool { n, _ := r.m.Lag(); return n == 0 })
	if r.ph.Count() != 63 || r.ph.Seen(bad) {
		t.Fatalf("PostHog has %d events (the refused one: %v), want the 63 others", r.ph.Count(), r.ph.Seen(bad))
	}
	letters, _ := r.dead.LoadPostHogDeadLetters(context.Background())
	if len(letters) != 1 || letters[0].UUID != bad || letters[0].Status != 400 || letters[0].Token != token {
		t.Fatalf("dead letters %+v", letters)
	}
	r.ph.AcceptEvent(bad)
	res, err := Replay(context.Background(), r.client, r.dead, nil, time.Now)
	if err != nil || res != (ReplayResult{Replayed: 1, Delivered: 1}) {
		t.Fatalf("replay = %+v, %v", res, err)
	}
	if !r.ph.Seen(bad) {
		t.Fatal("the replayed event is not at PostHog")
	}
	if left, _ := r.dead.LoadPostHogDeadLetters(context.Background()); len(left) != 0 {
		t.Fatalf("dead letters left: %+v", left)
	}
}

// TestMirrorHonoursRetryAfter: a 429 with Retry-After holds the batch at
// least that long; it is then stored once.
func TestMirrorHonoursRetryAfter(t *testing.T) {
	r := newRig(t, Options{})
	r.ph.Throttle(1, time.Second)
	r.appendCaptures(10, "d1", false)
	waitFor(t, "the events at PostHog", func() bool { return r.ph.Count() == 10 })
	reqs := r.ph.Requests()
	if len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].At.Sub(reqs[0].At) < time.Second {
		t.Fatalf("requests %d, first %d, gap %s; want a retry after Retry-After's second", len(reqs), reqs[0].Status, reqs[1].At.Sub(reqs[0].At))
	}
	if r.ph.Duplicates() != 0 || r.m.Retried() != 1 {
		t.Fatalf("duplicates %d retried %d", r.ph.Duplicates(), r.m.Retried())
	}
}

// TestMirrorResumesOnce: a mirror stopped mid-way and started again sends
// what it had not committed again; PostHog counts each uuid once.
func TestMirrorResumesOnce(t *testing.T) {
	r := newRig(t, Options{BatchEvents: 20, Concurrency: 2})
	r.ph.Script.SetLatency(5 * time.Millisecond)
	n := 0
	for range 30 {
		n += len(r.appendCaptures(20, "d1", false))
	}
	waitFor(t, "some events at PostHog", func() bool { return r.ph.Count() >= 100 })
	r.stop()
	r.start(Options{BatchEvents: 20, Concurrency: 2})
	waitFor(t, "every event at PostHog", func() bool { return r.ph.Count() == n })
}

// TestMirrorNative: with Native, a native event is mirrored under the
// person's userId, with the mirror's token; events from PostHog keep theirs.
func TestMirrorNative(t *testing.T) {
	r := newRig(t, Options{Native: true, Token: token})
	now := time.Now().UnixMilli()
	ev := canonical.Event{ID: uuid.Must(uuid.NewV7()), Name: "order.paid", UserID: "0190e0a0-0000-7000-8000-0000000000a1",
		Properties: []byte(`{"amount":3}`), Groups: []byte(`{}`), Source: "api", OccurredAt: now, ReceivedAt: now}
	b := canonical.Batch{Events: []canonical.Event{ev}, Calls: []canonical.EngineCall{{ID: ev.ID, Kind: canonical.CallEvent,
		Body: []byte(`{"email":"ada@example.com"}`)}}}
	if _, err := r.sp.Append(context.Background(), canonical.AppendBatch(nil, &b)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the native event at PostHog", func() bool { return r.ph.Count() == 1 })
	got, _ := r.ph.Event(ev.ID.String())
	if got.DistinctID != "ada@example.com" || got.Event != "order.paid" || got.Properties["amount"] != 3.0 {
		t.Fatalf("native event at PostHog: %+v", got)
	}
}
