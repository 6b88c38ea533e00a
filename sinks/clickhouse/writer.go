package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/backoff"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// WriterOptions configures a Writer; zero values take the defaults.
type WriterOptions struct {
	// MaxRows flushes once this many rows (over all tables) are pending; it
	// bounds memory and insert size. Default 100000.
	MaxRows int
	// MaxBytes flushes once the pending spool entries hold this many bytes,
	// which bounds the writer's memory whatever the rows' size: an insert
	// adds only one block's columns and its encoding (insertBlockBytes).
	// Default 32 MiB.
	MaxBytes int
	// MaxDelay flushes once the oldest pending entry has waited this long,
	// so a table gets about one insert per MaxDelay under steady load (what
	// ClickHouse's merges want). Default 1s.
	MaxDelay time.Duration
	// MaxBackoff caps the wait between retries of a failed insert; retries
	// start at 100ms and double. Default 5s.
	MaxBackoff time.Duration
	// InsertTimeout bounds one insert call. Default 60s.
	InsertTimeout time.Duration
	// Logger receives insert failures and skipped records; nil is slog.Default().
	Logger *slog.Logger
}

func (o *WriterOptions) withDefaults() {
	if o.MaxRows <= 0 {
		o.MaxRows = 100000
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 32 << 20
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.InsertTimeout <= 0 {
		o.InsertTimeout = 60 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Writer drains a spool consumer into a Backend. It reads entries, decodes
// each canonical.Batch, accumulates rows until MaxRows or MaxDelay, inserts
// each non-empty table (contacts, aliases, api_keys, then events; one insert
// at a time), and only then commits the spool cursor past those entries.
//
// A failed insert is retried with the same rows, with backoff, until it
// succeeds or Run's context ends; the cursor never passes rows that are
// neither inserted nor dead-lettered. Tables of a flush that were already
// inserted are not sent again on retry; a retry that repeats rows the server
// did store (an ack lost with the connection) is collapsed by the
// ReplacingMergeTree keys (and, on modern servers, by insert deduplication),
// so every row is stored exactly once as readers see it (FINAL).
//
// An insert refused because of its rows (see classifyInsertError: a value
// the column cannot hold), not because of the server or the network, is
// isolated instead of retried: the table's rows are bisected, the good parts
// inserted, and each row refused on its own goes to dead_letters with the
// reason (see isolate.go), so one bad record does not block those behind it.
type Writer struct {
	b    Backend
	r    *spool.Reader
	opts WriterOptions
	log  *slog.Logger

	// Owned by Run.
	entries []spool.Entry
	decoded canonical.Batch
	pending canonical.Batch
	// pendingBytes is the size of the entries taken into pending.
	pendingBytes int
	last         spool.Position  // Pos of the last entry taken into pending
	taken        bool            // entries were taken since the last commit
	first        time.Time       // when the first of them was taken
	done         [numTables]bool // tables of the current flush already inserted
	marks        []entryMark     // one per entry taken, to find a row's entry
	iso          *isolation      // the table being isolated, kept across retries
	dead         int             // rows of the current flush dead-lettered

	batches      atomic.Uint64
	rows         atomic.Uint64
	errors       atomic.Uint64
	skipped      atomic.Uint64
	deadLettered atomic.Uint64
}

// NewWriter returns a Writer from r into b; call Run to start it.
func NewWriter(b Backend, r *spool.Reader, opts WriterOptions) *Writer {
	opts.withDefaults()
	// Pending rows alias the entries they were decoded from until their
	// flush, across reads.
	r.KeepEntries()
	return &Writer{b: b, r: r, opts: opts, log: opts.Logger}
}

// Batches is the number of flushes inserted and committed.
func (w *Writer) Batches() uint64 { return w.batches.Load() }

// Rows is the number of rows inserted (all tables).
func (w *Writer) Rows() uint64 { return w.rows.Load() }

// Errors is the number of failed insert or commit attempts that were
// retried. An insert refused because of its rows is not retried but
// isolated; the rows it ends up refusing are counted by DeadLettered.
func (w *Writer) Errors() uint64 { return w.errors.Load() }

// DeadLettered is the number of rows ClickHouse refused that were moved to
// dead_letters (not counted in Rows).
func (w *Writer) DeadLettered() uint64 { return w.deadLettered.Load() }

// Skipped is the number of spool entries (and skipped segment tails) that
// could not be decoded and were passed over.
func (w *Writer) Skipped() uint64 { return w.skipped.Load() }

// Drained reports whether the committed cursor has reached the durable end
// of the spool, i.e. everything appended so far is inserted.
func (w *Writer) Drained() bool { return w.r.Backlog() == 0 }

// WaitDrained blocks until Drained or ctx ends.
func (w *Writer) WaitDrained(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !w.Drained() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for clickhouse writer to drain (backlog %d bytes): %w", w.r.Backlog(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// maxEntriesPerRead bounds one spool read; entries are whole requests.
const maxEntriesPerRead = 512

// Run drains the spool until ctx ends (then it returns nil) or the spool is
// closed and read to its end (pending rows are flushed first). Rows pending
// when ctx ends are not flushed: the cursor is not past them, so the next
// Run reads them again. Run must not be called concurrently.
func (w *Writer) Run(ctx context.Context) error {
	w.resetPending()
	w.r.Rewind() // start from the committed cursor
	defer w.r.Rewind()
	for {
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if w.taken {
			rctx, cancel = context.WithDeadline(ctx, w.first.Add(w.opts.MaxDelay))
		}
		entries, err := w.r.Next(rctx, maxEntriesPerRead, w.entries[:0])
		cancel()
		w.entries = entries
		for i := range entries {
			w.take(&entries[i])
			// Entries stay valid until the next read, so a flush may come
			// between two of them: the bounds are only overshot by one entry.
			if w.full() {
				if err := w.flush(ctx); err != nil {
					return nil // ctx ended; the rows will be read again
				}
			}
		}
		clear(w.entries) // drop references to the reader's buffer
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err == nil, errors.Is(err, context.DeadlineExceeded):
		case errors.Is(err, spool.ErrCorrupt):
			if err := w.skipCorrupt(ctx, err); err != nil {
				return nil // ctx ended
			}
			continue
		case errors.Is(err, spool.ErrClosed):
			if w.taken {
				if err := w.flush(ctx); err != nil {
					return nil
				}
			}
			return nil
		default:
			return fmt.Errorf("read spool: %w", err)
		}
		if w.due() {
			if err := w.flush(ctx); err != nil {
				return nil // ctx ended; the rows will be read again
			}
		}
	}
}

func (w *Writer) pendingRows() int { return w.pending.Len() }

// full reports pending rows or bytes at their bound.
func (w *Writer) full() bool {
	return w.pendingRows() >= w.opts.MaxRows || w.pendingBytes >= w.opts.MaxBytes
}

func (w *Writer) due() bool {
	return w.taken && (w.full() || time.Since(w.first) >= w.opts.MaxDelay)
}

// take decodes one entry into the pending rows, which alias its Data (the
// reader keeps entries, see NewWriter).
func (w *Writer) take(e *spool.Entry) {
	if !w.taken {
		w.taken, w.first = true, time.Now()
	}
	w.last = e.Pos
	w.pendingBytes += len(e.Data)
	if err := canonical.DecodeBatch(e.Data, &w.decoded); err != nil {
		w.skipped.Add(1)
		w.log.Error("clickhouse writer: skipping undecodable spool entry", "pos", e.Pos.String(), "err", err)
		return
	}
	w.pending.Events = append(w.pending.Events, w.decoded.Events...)
	w.pending.Contacts = append(w.pending.Contacts, w.decoded.Contacts...)
	w.pending.Aliases = append(w.pending.Aliases, w.decoded.Aliases...)
	w.pending.APIKeys = append(w.pending.APIKeys, w.decoded.APIKeys...)
	w.pending.Lists = append(w.pending.Lists, w.decoded.Lists...)
	m := entryMark{pos: e.Pos}
	for t := range numTables {
		m.ends[t] = w.pendingLen(t)
	}
	w.marks = append(w.marks, m)
}

// skipCorrupt handles a corrupt spool frame: the good entries before it are
// flushed, then the rest of its segment is skipped and committed past, since
// otherwise the consumer would be stuck on it forever.
func (w *Writer) skipCorrupt(ctx context.Context, cause error) error {
	if w.taken {
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	pos, n := w.r.SkipSegment()
	w.skipped.Add(1)
	w.log.Error("clickhouse writer: skipped corrupt spool data", "err", cause, "skipped_bytes", n, "resume", pos.String())
	w.taken, w.last = true, pos
	return w.commit(ctx)
}

// flush inserts the pending rows, retrying until they are in or ctx ends,
// then commits the cursor. Failures are logged when they start, when their
// kind changes (unreachable or refused) and when they end, not per attempt.
func (w *Writer) flush(ctx context.Context) error {
	wait, failures, wasRefused := 100*time.Millisecond, 0, false
	for {
		err := w.insertPending(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.errors.Add(1)
		if refused := Refused(err); failures == 0 || refused != wasRefused {
			wasRefused = refused
			w.log.Warn("clickhouse writer: insert failed, retrying with backoff", "rows", w.pendingRows(), "refused_by_server", refused, "err", err)
		}
		failures++
		if err := backoff.Sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(wait*2, w.opts.MaxBackoff)
	}
	if failures > 0 {
		w.log.Info("clickhouse writer: insert succeeded after failures", "rows", w.pendingRows(), "failed_attempts", failures)
	}
	n := w.pendingRows() - w.dead
	if err := w.commit(ctx); err != nil {
		return err
	}
	w.batches.Add(1)
	w.rows.Add(uint64(n))
	return nil
}

// commit records the cursor past the taken entries, retrying spool failures.
func (w *Writer) commit(ctx context.Context) error {
	wait := 100 * time.Millisecond
	for {
		err := w.r.Commit(w.last)
		if err == nil {
			break
		}
		w.errors.Add(1)
		w.log.Error("clickhouse writer: commit spool cursor failed, retrying", "pos", w.last.String(), "err", err)
		if err := backoff.Sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(wait*2, w.opts.MaxBackoff)
	}
	w.resetPending()
	return nil
}

// insertPending inserts each non-empty table not yet inserted in this flush;
// a table whose rows are refused is isolated (see isolate).
func (w *Writer) insertPending(ctx context.Context) error {
	for t := range numTables {
		n := w.pendingLen(t)
		if w.done[t] || n == 0 {
			continue
		}
		if w.iso == nil || w.iso.table != t {
			err := w.insertRange(ctx, t, 0, n)
			if err == nil {
				w.done[t] = true
				continue
			}
			if ctx.Err() != nil || classifyInsertError(err) == failRetry {
				return fmt.Errorf("insert %d rows into %s: %w", n, t.name(), err)
			}
			w.log.Warn("clickhouse writer: insert refused, isolating the rows at fault", "table", t.name(), "rows", n, "err", err)
			w.iso = newIsolation(t, n, err)
		}
		if err := w.isolate(ctx); err != nil {
			return err
		}
		w.iso = nil
		w.done[t] = true
	}
	return nil
}

func (w *Writer) resetPending() {
	// Drop the row slices if a burst grew them far past a normal flush, so
	// one spike does not pin the memory.
	if cap(w.pending.Events) > 4*w.opts.MaxRows {
		w.pending, w.marks = canonical.Batch{}, nil
	}
	w.pendingBytes = 0
	clear(w.pending.Events)
	clear(w.pending.Contacts)
	clear(w.pending.Aliases)
	clear(w.pending.APIKeys)
	clear(w.pending.Lists)
	w.pending.Reset()
	w.taken, w.done = false, [numTables]bool{}
	w.marks, w.iso, w.dead = w.marks[:0], nil, 0
}
