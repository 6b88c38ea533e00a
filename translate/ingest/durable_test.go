package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/native"
)

// faultJournal fails while failing is set (a full disk), refuses payloads
// over maxBytes as the spool refuses entries over its maximum, and records
// the batches it made durable.
type faultJournal struct {
	mu       sync.Mutex
	failing  bool
	maxBytes int
	batches  []canonical.Batch
	appends  int // attempts, failed ones included
}

func (j *faultJournal) Append(_ context.Context, payload []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.appends++
	if j.maxBytes > 0 && len(payload) > j.maxBytes {
		return fmt.Errorf("%w: entry of %d bytes", ErrTooLargeToStore, len(payload))
	}
	if j.failing {
		return errors.New("write segment: no space left on device")
	}
	var b canonical.Batch
	if err := canonical.DecodeBatch(append([]byte(nil), payload...), &b); err != nil {
		return err
	}
	j.batches = append(j.batches, b)
	return nil
}

func (j *faultJournal) fail(on bool) {
	j.mu.Lock()
	j.failing = on
	j.mu.Unlock()
}

// durable is what the journal holds: every batch, in order.
func (j *faultJournal) durable() []canonical.Batch {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]canonical.Batch(nil), j.batches...)
}

func (j *faultJournal) last() canonical.Batch {
	b := j.durable()
	return b[len(b)-1]
}

// restored is an identity store rebuilt from the durable rows only, as the
// embedded mode rebuilds it from ClickHouse after a restart.
func (j *faultJournal) restored(t *testing.T) *identity.Memory {
	t.Helper()
	var s canonical.Snapshot
	for _, b := range j.durable() {
		s.Contacts = append(s.Contacts, b.Contacts...)
		s.Aliases = append(s.Aliases, b.Aliases...)
	}
	m := identity.NewMemory()
	if err := m.Restore(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return m
}

// newDurableIngestor never retries on its own unless a test asks: each test
// chooses when held rows may be written.
func newDurableIngestor(t *testing.T, j Journal, opts Options) (*Ingestor, *identity.Memory) {
	t.Helper()
	store := identity.NewMemory()
	opts.IdempotencyWindow = time.Hour
	if opts.PendingFlushInterval == 0 {
		opts.PendingFlushInterval = time.Hour
	}
	in := New(store, j, opts)
	t.Cleanup(in.Close)
	return in, store
}

func mustUpsert(t *testing.T, in *Ingestor, body string) UpsertResult {
	t.Helper()
	u, err := native.ParseContactUpsert([]byte(body), true)
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.UpsertContact(context.Background(), u, false)
	if err != nil {
		t.Fatalf("upsert %s: %v", body, err)
	}
	return res
}

func upsertErr(t *testing.T, in *Ingestor, body string) error {
	t.Helper()
	u, err := native.ParseContactUpsert([]byte(body), true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = in.UpsertContact(context.Background(), u, false)
	return err
}

func trackErr(t *testing.T, in *Ingestor, body string) error {
	t.Helper()
	e, err := native.ParseEvent([]byte(body), true, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = in.TrackEvent(context.Background(), e, "api", false)
	return err
}

func capture(in *Ingestor, body string) (CaptureResult, error) {
	return in.Capture(context.Background(), CaptureRequest{Path: "/batch/", ContentType: "application/json", Body: []byte(body)}, CaptureOptions{})
}

// liveIDs is the contact each key resolves to in store ("" when none); keys
// are "email:…", "userId:…" or "distinct:…".
func liveIDs(t *testing.T, store identity.Store, keys ...string) []string {
	t.Helper()
	out := make([]string, len(keys))
	for i, k := range keys {
		kind, v, _ := strings.Cut(k, ":")
		var cs []canonical.Contact
		var err error
		switch kind {
		case "email":
			cs, err = store.Find(context.Background(), v, "")
		case "userId":
			cs, err = store.Find(context.Background(), "", v)
		case "distinct":
			res := make([]identity.ResolveResult, 1)
			err = store.Resolve(context.Background(), []identity.ResolveOp{{Distinct: v, NoCreate: true}}, res)
			if res[0].Found {
				cs = []canonical.Contact{res[0].Contact}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) > 1 {
			t.Fatalf("%s resolves to %d contacts", k, len(cs))
		}
		if len(cs) == 1 {
			out[i] = cs[0].ID.String()
		}
	}
	return out
}

// agree fails unless every key resolves to one and the same contact in the
// live store and in the store rebuilt from the durable rows.
func agree(t *testing.T, j *faultJournal, store identity.Store, keys ...string) {
	t.Helper()
	live := liveIDs(t, store, keys...)
	rebuilt := liveIDs(t, j.restored(t), keys...)
	for i, k := range keys {
		if live[i] == "" || live[i] != live[0] || rebuilt[i] != live[i] {
			t.Fatalf("key %s: live contact %q (first key's %q), rebuilt from the journal %q", k, live[i], live[0], rebuilt[i])
		}
	}
}

func assertNothingHeld(t *testing.T, in *Ingestor) {
	t.Helper()
	if rows, bytes := in.pending.size(); rows != 0 || bytes != 0 {
		t.Fatalf("held after a durable write: %d rows, %d bytes", rows, bytes)
	}
}

// TestFailedMergeCarriedByNextEvent: an upsert joining two contacts fails to
// become durable after its resolve merged them; the person's next event
// carries the loser's row and the merge aliases, and the store rebuilt from
// the journal finds one person.
func TestFailedMergeCarriedByNextEvent(t *testing.T) {
	j := &faultJournal{}
	in, store := newDurableIngestor(t, j, Options{})
	a := mustUpsert(t, in, `{"email":"merge@example.com"}`)
	b := mustUpsert(t, in, `{"userId":"u_merge"}`)

	j.fail(true)
	err := upsertErr(t, in, `{"email":"merge@example.com","userId":"u_merge"}`)
	if !errors.Is(err, ErrNotDurable) || !IsUnavailable(err) {
		t.Fatalf("merge while the journal fails = %v, want ErrNotDurable (503)", err)
	}
	if rows, _ := in.pending.size(); rows < 3 {
		t.Fatalf("held rows after the failed merge = %d, want the survivor, the loser and the merge aliases", rows)
	}
	j.fail(false)
	if err := trackErr(t, in, `{"name":"after","userId":"u_merge"}`); err != nil {
		t.Fatal(err)
	}
	last := j.last()
	var loser *canonical.Contact
	for i := range last.Contacts {
		if last.Contacts[i].ID == a.ID {
			loser = &last.Contacts[i]
		}
	}
	if loser == nil || loser.DeletedAt == 0 || len(last.Events) != 1 {
		t.Fatalf("next event's batch = %+v; want its event and the merged-away contact %s soft-deleted", last, a.ID)
	}
	merged := false
	for _, al := range last.Aliases {
		merged = merged || al.Kind == canonical.KindEmail && al.Value == "merge@example.com" && al.ContactID == b.ID
	}
	if !merged {
		t.Fatalf("next event's aliases = %+v; want email merge@example.com on %s", last.Aliases, b.ID)
	}
	assertNothingHeld(t, in)
	agree(t, j, store, "userId:u_merge", "email:merge@example.com")
}

// TestFailedWritesInARow: several failed writes of one person (a creation, a
// merge, a new key, a second merge) are all carried by its first durable
// write; only the newest version of each contact is held meanwhile.
func TestFailedWritesInARow(t *testing.T) {
	j := &faultJournal{}
	in, store := newDurableIngestor(t, j, Options{})
	mustUpsert(t, in, `{"email":"row.b@example.com"}`)
	mustUpsert(t, in, `{"anonymousId":"row-anon","email":"row.c@example.com"}`)

	j.fail(true)
	for _, body := range []string{
		`{"userId":"u_row","properties":{"n":1}}`,
		`{"userId":"u_row","email":"row.b@example.com","properties":{"n":2}}`,
		`{"userId":"u_row","anonymousId":"row-anon-2","properties":{"n":3}}`,
		`{"userId":"u_row","email":"row.c@example.com","properties":{"n":4}}`,
	} {
		if err := upsertErr(t, in, body); !IsUnavailable(err) {
			t.Fatalf("upsert %s while failing = %v, want 503", body, err)
		}
	}
	survivor, err := store.Find(context.Background(), "", "u_row")
	if err != nil || len(survivor) != 1 {
		t.Fatalf("find u_row = %v, %v", survivor, err)
	}
	in.pending.mu.Lock()
	held := in.pending.people[survivor[0].ID]
	in.pending.mu.Unlock()
	if held == nil || len(held.contacts) != 3 || held.contacts[survivor[0].ID].Version != survivor[0].Version {
		t.Fatalf("held person = %+v; want three contacts, the survivor at its live version %d", held, survivor[0].Version)
	}
	j.fail(false)
	mustUpsert(t, in, `{"userId":"u_row"}`)
	assertNothingHeld(t, in)
	agree(t, j, store, "userId:u_row", "email:row.b@example.com", "email:row.c@example.com",
		"distinct:row-anon", "distinct:row-anon-2")
	props := string(liveContact(t, j.restored(t), "u_row").Properties)
	if props != `{"n":4}` {
		t.Fatalf("rebuilt properties = %s, want the last write's", props)
	}
}

func liveContact(t *testing.T, store identity.Store, userID string) canonical.Contact {
	t.Helper()
	cs, err := store.Find(context.Background(), "", userID)
	if err != nil || len(cs) != 1 {
		t.Fatalf("find %s = %v, %v", userID, cs, err)
	}
	return cs[0]
}

// TestFailedCaptureIdentifyMerge: a $identify that merges the sender's
// anonymous person into the user's contact fails to become durable; the
// user's next capture event carries the merge.
func TestFailedCaptureIdentifyMerge(t *testing.T) {
	j := &faultJournal{}
	in, store := newDurableIngestor(t, j, Options{})
	if _, err := capture(in, `{"api_key":"phc_x","batch":[{"event":"view","distinct_id":"anon-cap","properties":{"$set":{"seen":1}}}]}`); err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, in, `{"userId":"u_cap","email":"cap@example.com"}`)

	j.fail(true)
	_, err := capture(in, `{"api_key":"phc_x","batch":[{"event":"$identify","distinct_id":"u_cap","properties":{"$anon_distinct_id":"anon-cap"}}]}`)
	if !IsUnavailable(err) {
		t.Fatalf("$identify while the journal fails = %v, want 503", err)
	}
	if got := liveIDs(t, store, "distinct:anon-cap", "userId:u_cap"); got[0] != got[1] {
		t.Fatalf("the store did not merge: %v", got)
	}
	j.fail(false)
	if res, err := capture(in, `{"api_key":"phc_x","batch":[{"event":"later","distinct_id":"u_cap"}]}`); err != nil || res.Stored != 1 {
		t.Fatalf("next capture = %+v, %v", res, err)
	}
	assertNothingHeld(t, in)
	agree(t, j, store, "userId:u_cap", "email:cap@example.com", "distinct:anon-cap")
}

// TestFailedDeleteRetried: a delete that cannot be made durable has already
// removed the contact from the store; its retry is refused with 503 while
// the tombstones are held, answers deleted once they are durable, and the
// rebuilt store finds nobody.
func TestFailedDeleteRetried(t *testing.T) {
	j := &faultJournal{}
	in, store := newDurableIngestor(t, j, Options{})
	mustUpsert(t, in, `{"userId":"u_del","email":"del@example.com"}`)
	del := func() error {
		_, err := in.DeleteContacts(context.Background(), native.ContactKeys{UserID: "u_del"})
		return err
	}
	j.fail(true)
	if err := del(); !IsUnavailable(err) {
		t.Fatalf("delete while failing = %v, want 503", err)
	}
	if err := del(); !errors.Is(err, errDeleteNotDurable) || !IsUnavailable(err) {
		t.Fatalf("retry while failing = %v, want 503 (the delete is not durable)", err)
	}
	j.fail(false)
	if err := del(); err != nil {
		t.Fatalf("retry once the journal works = %v, want deleted", err)
	}
	assertNothingHeld(t, in)
	if err := del(); !errors.Is(err, ErrContactNotFound) {
		t.Fatalf("delete after the durable one = %v, want not found", err)
	}
	for _, k := range []string{"userId:u_del", "email:del@example.com"} {
		if got := liveIDs(t, j.restored(t), k); got[0] != "" {
			t.Fatalf("rebuilt store still finds %s on %s", k, got[0])
		}
		if got := liveIDs(t, store, k); got[0] != "" {
			t.Fatalf("live store finds deleted %s", k)
		}
	}
}

// TestFlushLoopWritesHeldRows: held rows of a person who never writes again
// are written by the periodic flush once the journal works.
func TestFlushLoopWritesHeldRows(t *testing.T) {
	j := &faultJournal{}
	in, store := newDurableIngestor(t, j, Options{PendingFlushInterval: 10 * time.Millisecond})
	mustUpsert(t, in, `{"email":"loop@example.com"}`)
	mustUpsert(t, in, `{"userId":"u_loop"}`)
	j.fail(true)
	if err := upsertErr(t, in, `{"email":"loop@example.com","userId":"u_loop"}`); !IsUnavailable(err) {
		t.Fatalf("merge while failing = %v", err)
	}
	j.fail(false)
	deadline := time.Now().Add(10 * time.Second)
	for !in.pending.empty() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	assertNothingHeld(t, in)
	agree(t, j, store, "userId:u_loop", "email:loop@example.com")
}

// TestCloseWritesHeldRows: rows still held when the ingestor closes (a
// shutdown) are written by Close.
func TestCloseWritesHeldRows(t *testing.T) {
	j := &faultJournal{}
	store := identity.NewMemory()
	in := New(store, j, Options{IdempotencyWindow: time.Hour, PendingFlushInterval: time.Hour})
	mustUpsert(t, in, `{"email":"close@example.com"}`)
	mustUpsert(t, in, `{"userId":"u_close"}`)
	j.fail(true)
	if err := upsertErr(t, in, `{"email":"close@example.com","userId":"u_close"}`); !IsUnavailable(err) {
		t.Fatalf("merge while failing = %v", err)
	}
	j.fail(false)
	in.Close()
	agree(t, j, store, "userId:u_close", "email:close@example.com")
}

// TestTooLargeIsAClientError: a batch over the journal's entry limit is
// refused with ErrTooLargeToStore (413, not a 503 retried forever), and the
// identity changes its resolve made are written on their own at once.
func TestTooLargeIsAClientError(t *testing.T) {
	j := &faultJournal{maxBytes: 4096}
	in, store := newDurableIngestor(t, j, Options{})
	mustUpsert(t, in, `{"email":"big@example.com"}`)
	mustUpsert(t, in, `{"userId":"u_big"}`)
	big := strings.Repeat("x", 8000)
	e, err := native.ParseEvent([]byte(`{"name":"big","userId":"u_big","email":"big@example.com","eventProperties":{"pad":"`+big+`"}}`), true, "big-key")
	if err != nil {
		t.Fatal(err)
	}
	_, err = in.TrackEvent(context.Background(), e, "api", false)
	if !errors.Is(err, ErrTooLargeToStore) || IsUnavailable(err) {
		t.Fatalf("oversized event = %v, want ErrTooLargeToStore and not a 503", err)
	}
	assertNothingHeld(t, in)
	last := j.last()
	if len(last.Events) != 0 || len(last.Contacts) != 2 || len(last.Aliases) == 0 {
		t.Fatalf("batch after the refusal = %d events, %d contacts, %d aliases; want the merge's rows alone",
			len(last.Events), len(last.Contacts), len(last.Aliases))
	}
	agree(t, j, store, "userId:u_big", "email:big@example.com")
	// Nothing was stored under the key: a smaller retry with it is stored.
	small, _ := native.ParseEvent([]byte(`{"name":"big","userId":"u_big"}`), true, "big-key")
	if res, err := in.TrackEvent(context.Background(), small, "api", false); err != nil || !res.Stored {
		t.Fatalf("retry with the key = %+v, %v; want stored", res, err)
	}
}

// TestTooLargeIdentityRowsSplit: when a refused batch's identity rows are
// themselves over the entry limit, they are written in as many entries as
// they need.
func TestTooLargeIdentityRowsSplit(t *testing.T) {
	j := &faultJournal{maxBytes: 2048}
	in, store := newDurableIngestor(t, j, Options{})
	var events []string
	var keys []string
	for i := range 12 {
		events = append(events, fmt.Sprintf(`{"event":"e","distinct_id":"split-%d","properties":{"$set":{"pad":"%s"}}}`, i, strings.Repeat("p", 300)))
		keys = append(keys, fmt.Sprintf("distinct:split-%d", i))
	}
	_, err := capture(in, `{"api_key":"phc_x","batch":[`+strings.Join(events, ",")+`]}`)
	if !errors.Is(err, ErrTooLargeToStore) || IsUnavailable(err) {
		t.Fatalf("oversized capture = %v, want ErrTooLargeToStore", err)
	}
	assertNothingHeld(t, in)
	entries, contacts := 0, 0
	for _, b := range j.durable() {
		entries++
		contacts += len(b.Contacts)
	}
	if contacts != 12 || entries < 3 {
		t.Fatalf("identity rows written as %d contacts in %d entries; want 12 contacts over several entries", contacts, entries)
	}
	live, rebuilt := liveIDs(t, store, keys...), liveIDs(t, j.restored(t), keys...)
	for i := range keys {
		if live[i] == "" || rebuilt[i] != live[i] {
			t.Fatalf("%s: live %q, rebuilt %q", keys[i], live[i], rebuilt[i])
		}
	}
}

// TestPendingBoundRefusesBeforeResolve: with the held rows at their bound,
// a new write is refused before it changes the store, until the rows are
// durable.
func TestPendingBoundRefusesBeforeResolve(t *testing.T) {
	j := &faultJournal{}
	in, store := newDurableIngestor(t, j, Options{PendingMaxBytes: 1})
	j.fail(true)
	if err := upsertErr(t, in, `{"email":"first@example.com"}`); !IsUnavailable(err) {
		t.Fatalf("first upsert = %v, want 503", err)
	}
	err := upsertErr(t, in, `{"email":"second@example.com"}`)
	if !errors.Is(err, ErrNotDurable) || !errors.Is(err, errPendingFull) {
		t.Fatalf("upsert at the bound = %v, want ErrNotDurable (pending full)", err)
	}
	if got := liveIDs(t, store, "email:second@example.com"); got[0] != "" {
		t.Fatalf("refused upsert changed the store: %v", got)
	}
	attempts := j.appends
	if err := upsertErr(t, in, `{"email":"second@example.com"}`); !errors.Is(err, errPendingFull) || j.appends != attempts {
		t.Fatalf("upsert right after a failed flush = %v after %d more appends, want refused without another attempt", err, j.appends-attempts)
	}
	j.fail(false)
	time.Sleep(admitFlushGap) // the next refused write tries a flush again
	mustUpsert(t, in, `{"email":"second@example.com"}`)
	assertNothingHeld(t, in)
	agree(t, j, store, "email:first@example.com")
	agree(t, j, store, "email:second@example.com")
}

// TestPendingConcurrentFailures: writers merge and delete a few people
// concurrently while the journal fails every other append; once it works
// again and the held rows are flushed, the store rebuilt from the journal
// resolves every key as the live store does.
func TestPendingConcurrentFailures(t *testing.T) {
	j := &alternatingJournal{}
	in, store := newDurableIngestor(t, j, Options{PendingFlushInterval: 5 * time.Millisecond})
	const workers, rounds, people = 6, 60, 5
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				p := (w + r) % people
				var err error
				switch r % 4 {
				case 0:
					err = upsertErr(t, in, fmt.Sprintf(`{"email":"c%d@example.com","properties":{"w":%d}}`, p, w))
				case 1:
					err = upsertErr(t, in, fmt.Sprintf(`{"userId":"u%d","anonymousId":"a%d-%d"}`, p, p, w))
				case 2:
					err = upsertErr(t, in, fmt.Sprintf(`{"userId":"u%d","email":"c%d@example.com"}`, p, p))
				case 3:
					if w == 0 {
						_, err = in.DeleteContacts(context.Background(), native.ContactKeys{UserID: fmt.Sprintf("u%d", p)})
					} else {
						_, err = capture(in, fmt.Sprintf(`{"api_key":"phc_x","batch":[{"event":"$identify","distinct_id":"u%d","properties":{"$anon_distinct_id":"a%d-%d"}}]}`, p, p, w))
					}
				}
				if err != nil && !IsUnavailable(err) && !errors.Is(err, ErrContactNotFound) {
					t.Errorf("worker %d round %d: %v", w, r, err)
				}
			}
		}()
	}
	wg.Wait()
	j.heal()
	in.flushPending(context.Background())
	assertNothingHeld(t, in)
	var keys []string
	for p := range people {
		keys = append(keys, fmt.Sprintf("email:c%d@example.com", p), fmt.Sprintf("userId:u%d", p))
		for w := range workers {
			keys = append(keys, fmt.Sprintf("distinct:a%d-%d", p, w))
		}
	}
	live, rebuilt := liveIDs(t, store, keys...), liveIDs(t, j.restored(t), keys...)
	for i := range keys {
		if rebuilt[i] != live[i] {
			t.Errorf("%s: live %q, rebuilt from the journal %q", keys[i], live[i], rebuilt[i])
		}
	}
}

// alternatingJournal fails every other append until healed.
type alternatingJournal struct {
	faultJournal
	calls  int
	healed bool
}

func (j *alternatingJournal) Append(ctx context.Context, payload []byte) error {
	j.mu.Lock()
	j.calls++
	j.failing = !j.healed && j.calls%2 == 0
	j.mu.Unlock()
	return j.faultJournal.Append(ctx, payload)
}

func (j *alternatingJournal) heal() {
	j.mu.Lock()
	j.healed = true
	j.mu.Unlock()
}

// TestPendingKeepsNewestAndFollowsMerges: the held set keeps one row per
// contact and per key at its newest version, files a merged-away person's
// rows under the survivor, and settles only what a durable batch held.
func TestPendingKeepsNewestAndFollowsMerges(t *testing.T) {
	p := newPendingIdentity(1 << 20)
	a, c := uuid.New(), uuid.New()
	row := func(id uuid.UUID, v uint64, deleted bool) canonical.Contact {
		r := canonical.Contact{ID: id, Version: v, Properties: []byte(`{}`)}
		if deleted {
			r.DeletedAt = 1
		}
		return r
	}
	alias := func(v uint64, to uuid.UUID) canonical.Alias {
		return canonical.Alias{Kind: canonical.KindEmail, Value: "k@example.com", ContactID: to, Version: v}
	}
	p.keep(a, []canonical.Contact{row(a, 1, false)}, []canonical.Alias{alias(1, a)})
	p.keep(a, []canonical.Contact{row(a, 3, false)}, nil)
	p.keep(a, []canonical.Contact{row(a, 2, false)}, nil) // older: ignored
	p.keep(c, []canonical.Contact{row(c, 5, false), row(a, 5, true)}, []canonical.Alias{alias(5, c)})

	carried := func(ids ...uuid.UUID) canonical.Batch {
		var b canonical.Batch
		p.carry(&b, ids)
		return b
	}
	f := func(b canonical.Batch, contacts, aliases int, want string) {
		t.Helper()
		if len(b.Contacts) != contacts || len(b.Aliases) != aliases {
			t.Fatalf("%s: carried %d contacts, %d aliases; want %d and %d", want, len(b.Contacts), len(b.Aliases), contacts, aliases)
		}
	}
	f(carried(a), 2, 1, "the loser's id finds the survivor's rows")
	f(carried(c, a), 2, 1, "one person carried once")
	f(carried(uuid.New()), 0, 0, "a person with nothing held")
	b := carried(c)
	for _, r := range b.Contacts {
		if r.Version != 5 {
			t.Fatalf("held %s at version %d, want 5", r.ID, r.Version)
		}
	}
	if b.Aliases[0].ContactID != c || b.Aliases[0].Version != 5 {
		t.Fatalf("held alias %+v, want the merge's", b.Aliases[0])
	}

	p.keep(c, []canonical.Contact{row(c, 7, false)}, nil) // filed after b was carried
	p.settle(&b)
	f(carried(c), 1, 0, "rows newer than the durable batch's stay")
	if rows, _ := p.size(); rows != 1 {
		t.Fatalf("rows = %d, want 1", rows)
	}
	p.settle(&canonical.Batch{Contacts: []canonical.Contact{row(c, 9, false)}})
	if !p.empty() {
		t.Fatal("a durable newer version did not settle the held row")
	}
	if p.bytes != 0 {
		t.Fatalf("bytes = %d after everything settled", p.bytes)
	}
}

// TestCaptureBatchHoldsNewestContactRow: one person's events each setting a
// property put one contact row, the newest, in the batch; when the batch
// fails, one row is held.
func TestCaptureBatchHoldsNewestContactRow(t *testing.T) {
	j := &faultJournal{}
	in, _ := newDurableIngestor(t, j, Options{})
	body := func(prefix string) string {
		return `{"api_key":"phc_x","batch":[
			{"event":"a","distinct_id":"grow","properties":{"$set":{"` + prefix + `1":1}}},
			{"event":"b","distinct_id":"grow","properties":{"$set":{"` + prefix + `2":2}}},
			{"event":"c","distinct_id":"grow","properties":{"$set":{"` + prefix + `3":3}}}]}`
	}
	if res, err := capture(in, body("k")); err != nil || res.Stored != 3 {
		t.Fatalf("capture = %+v, %v", res, err)
	}
	b := j.last()
	if len(b.Contacts) != 1 || string(b.Contacts[0].Properties) != `{"k1":1,"k2":2,"k3":3}` {
		t.Fatalf("batch contacts = %d, first %s; want one row with the three properties", len(b.Contacts), b.Contacts[0].Properties)
	}
	j.fail(true)
	if _, err := capture(in, body("m")); !IsUnavailable(err) {
		t.Fatalf("failing capture = %v", err)
	}
	if rows, _ := in.pending.size(); rows != 1 {
		t.Fatalf("held rows = %d, want the newest contact row alone", rows)
	}
}
