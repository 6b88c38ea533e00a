// Package spool is the durable write-ahead log between the request path and
// the sinks. A request is acknowledged only after Append returns, i.e. after
// its payload is written and fsynced; concurrent appends share one write and
// one fsync (group commit). Named consumers read the log with their own
// persisted cursor, and a segment file is deleted once every consumer's
// cursor has passed it.
//
// Payloads are opaque bytes; the spool never looks inside them.
package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultSegmentBytes is the segment size used when Options.SegmentBytes is 0.
const DefaultSegmentBytes = 64 << 20

var (
	// ErrFull is returned by Append when the payload would take the spool
	// past Options.MaxBytes. Nothing of the payload is written.
	ErrFull = errors.New("spool: full")
	// ErrClosed is returned by Append after Close, and by Reader.Next once
	// a closed spool has nothing left to read.
	ErrClosed = errors.New("spool: closed")
)

// Options configures Open.
type Options struct {
	// Dir holds the segment and cursor files; it is created if missing.
	Dir string
	// SegmentBytes rolls to a new segment file once the active one would
	// grow past it. An entry larger than SegmentBytes gets a segment of its
	// own. 0 means DefaultSegmentBytes.
	SegmentBytes int64
	// MaxBytes caps the bytes on disk over all segments; 0 is unlimited.
	// At the cap Append returns ErrFull, never a partial write. With a cap
	// of at least eight segments, segment files are reused (see recycle),
	// and up to three segments more are on disk uncounted: the free files,
	// and the former frames past the data of a reused active segment. Below
	// that, files are not reused and the cap is exact.
	MaxBytes int64
	// Consumers names the readers whose cursors gate segment deletion, e.g.
	// "clickhouse". A consumer that never opens its Reader still holds
	// back deletion, so its data waits for it. With no consumers nothing is
	// ever deleted.
	Consumers []string
	// Logger receives recovery warnings and IO failures; nil is slog.Default().
	Logger *slog.Logger

	// hooks lets in-package tests observe and break the IO path.
	hooks *hooks
}

type hooks struct {
	// syncData replaces (*os.File).Sync for segment data.
	syncData func(*os.File) error
}

// Stats are cumulative counters for metrics.
type Stats struct {
	Appends  uint64 // payloads made durable
	Syncs    uint64 // group commits: one write+fsync each
	Full     uint64 // appends rejected with ErrFull
	Segments int    // segment files on disk
	Bytes    int64  // bytes on disk, as Bytes
}

// consumerName keeps consumer names usable as file names on every platform.
var consumerName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]*$`)

// Spool is a durable append-only log. All methods are safe for concurrent use.
type Spool struct {
	dir          string
	segmentBytes int64
	maxBytes     int64
	consumers    []string
	log          *slog.Logger
	syncData     func(*os.File) error
	lock         *dirLock

	// The append queue, handed to the writer goroutine in one swap.
	qmu     sync.Mutex
	queue   []*appendReq
	closing bool
	wake    chan struct{} // capacity 1: "the queue may be non-empty"
	reqPool sync.Pool

	// Owned by the writer goroutine (and by Open before it starts).
	active     *os.File
	activeSeq  uint64
	activeSize int64         // durable bytes in the active segment
	activeSalt uint32        // frame checksum salt of the active segment
	batch      []byte        // frames of the group commit being built
	piece      []*appendReq  // requests whose frames are in batch
	spare      []*appendReq  // the other half of the queue double buffer
	writerDone chan struct{} // closed when the writer goroutine exits

	// Shared state between the writer, readers and Commit.
	mu       sync.Mutex
	segments []segment           // ascending; the last one is active
	cursors  map[string]Position // committed cursor per consumer
	readers  map[string]*Reader  // open readers by consumer name
	notify   chan struct{}       // closed and replaced when durable data grows

	deleteMu  sync.Mutex    // serialises segment deletion
	freeMu    sync.Mutex    // guards freeFiles
	freeFiles []string      // consumed segment files kept for the next segments, oldest first
	closed    chan struct{} // closed once Close has flushed everything
	diskBytes atomic.Int64
	failure   atomic.Pointer[error] // first IO error that made the spool unusable

	appends atomic.Uint64
	syncs   atomic.Uint64
	full    atomic.Uint64
	// fullAt is when an append was last refused for room (Unix ns), 0 once
	// an append succeeded since.
	fullAt atomic.Int64
	// observeCommit, when set, is told how long each group commit took.
	observeCommit atomic.Pointer[func(time.Duration)]
}

// Open opens or creates the spool in opts.Dir. The tail of the last segment
// is checked and a torn write from a crash is truncated (and logged), so
// start-up does not fail because of one.
func Open(opts Options) (*Spool, error) {
	if opts.Dir == "" {
		return nil, errors.New("spool: Options.Dir is empty")
	}
	if opts.SegmentBytes == 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.SegmentBytes <= segmentHeaderSize+frameHeaderSize {
		return nil, fmt.Errorf("spool: Options.SegmentBytes %d is too small", opts.SegmentBytes)
	}
	if opts.MaxBytes < 0 {
		return nil, fmt.Errorf("spool: Options.MaxBytes %d is negative", opts.MaxBytes)
	}
	seen := make(map[string]bool, len(opts.Consumers))
	for _, name := range opts.Consumers {
		if !consumerName.MatchString(name) {
			return nil, fmt.Errorf("spool: invalid consumer name %q", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("spool: duplicate consumer %q", name)
		}
		seen[name] = true
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("spool: create directory: %w", err)
	}
	lock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}

	s := &Spool{
		dir:          opts.Dir,
		segmentBytes: opts.SegmentBytes,
		maxBytes:     opts.MaxBytes,
		consumers:    append([]string(nil), opts.Consumers...),
		log:          log,
		syncData:     syncFileData,
		lock:         lock,
		wake:         make(chan struct{}, 1),
		writerDone:   make(chan struct{}),
		cursors:      make(map[string]Position, len(opts.Consumers)),
		readers:      make(map[string]*Reader),
		notify:       make(chan struct{}),
		closed:       make(chan struct{}),
	}
	if opts.hooks != nil && opts.hooks.syncData != nil {
		s.syncData = opts.hooks.syncData
	}
	if err := s.load(); err != nil {
		if s.active != nil {
			s.active.Close()
		}
		lock.release()
		return nil, err
	}
	s.collect()
	go s.run()
	return s, nil
}

// load reads the segment list, recovers the last segment and loads the
// consumers' cursors.
func (s *Spool) load() error {
	seqs, err := listSegments(s.dir)
	if err != nil {
		return err
	}
	if err := s.loadFree(); err != nil {
		return err
	}
	if len(seqs) == 0 {
		f, err := createSegment(s.dir, 1)
		if err != nil {
			return err
		}
		s.active, s.activeSeq, s.activeSize = f, 1, segmentHeaderSize
		s.activeSalt = segmentSalt(segmentVersion, 1)
		s.segments = []segment{{seq: 1, size: segmentHeaderSize}}
		s.diskBytes.Store(segmentHeaderSize)
		return s.loadCursors()
	}

	var total int64
	for _, seq := range seqs[:len(seqs)-1] {
		fi, err := os.Stat(segmentPath(s.dir, seq))
		if err != nil {
			return fmt.Errorf("spool: stat segment %d: %w", seq, err)
		}
		s.segments = append(s.segments, segment{seq: seq, size: fi.Size()})
		total += fi.Size()
	}
	last := seqs[len(seqs)-1]
	f, size, version, err := recoverSegment(s.dir, last, s.log)
	if err != nil {
		return err
	}
	s.active, s.activeSeq, s.activeSize = f, last, size
	s.activeSalt = segmentSalt(version, last)
	s.segments = append(s.segments, segment{seq: last, size: size})
	s.diskBytes.Store(total + size)
	return s.loadCursors()
}

// loadFree adopts the free files left by the last run (see recycle) and
// removes any beyond maxFreeFiles.
func (s *Spool) loadFree() error {
	free, err := listFree(s.dir)
	if err != nil {
		return err
	}
	for _, path := range free {
		if len(s.freeFiles) < maxFreeFiles && recyclable(path) {
			s.freeFiles = append(s.freeFiles, path)
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("spool: remove free file: %w", err)
		}
	}
	return nil
}

// loadCursors reads each consumer's cursor and clamps it to the log, which
// may have lost its torn tail since the cursor was written.
func (s *Spool) loadCursors() error {
	end := s.segments[len(s.segments)-1]
	for _, name := range s.consumers {
		p, err := loadCursor(s.dir, name)
		if err != nil {
			// Re-reading from the start duplicates work; sinks are
			// idempotent, losing acknowledged entries is not an option.
			s.log.Warn("spool: unreadable cursor, re-reading from start of log", "consumer", name, "err", err)
			p = Position{}
		}
		if clamped := s.clamp(p); clamped != p {
			s.log.Warn("spool: cursor beyond end of log, clamped", "consumer", name,
				"cursor", p.String(), "clamped", clamped.String(), "end", Position{end.seq, end.size}.String())
			p = clamped
		}
		s.cursors[name] = p
	}
	return nil
}

// clamp limits p to the durable end of its segment and of the log.
func (s *Spool) clamp(p Position) Position {
	last := s.segments[len(s.segments)-1]
	if end := (Position{last.seq, last.size}); p.Compare(end) > 0 {
		return end
	}
	for _, sg := range s.segments {
		if sg.seq == p.Segment && p.Offset > sg.size {
			return Position{sg.seq, sg.size}
		}
	}
	return p
}

// Bytes returns the bytes currently on disk over all segments.
func (s *Spool) Bytes() int64 {
	return s.diskBytes.Load()
}

// Healthy returns the IO error that made the spool unusable, or nil. ErrFull
// does not make the spool unhealthy.
func (s *Spool) Healthy() error {
	if p := s.failure.Load(); p != nil {
		return *p
	}
	return nil
}

// fullMemory is how long a refusal for room is reported by Full when no
// append has succeeded since: long enough for a readiness probe to see it,
// short enough that an instance no traffic reaches any more is not reported
// full for ever.
const fullMemory = 5 * time.Second

// Full returns an error wrapping ErrFull when an append was refused for room
// (the byte cap, or a full disk) within the last few seconds and none has
// succeeded since; nil otherwise.
func (s *Spool) Full(now time.Time) error {
	at := s.fullAt.Load()
	if at == 0 || now.UnixNano()-at > int64(fullMemory) {
		return nil
	}
	return fmt.Errorf("%w: appends refused for room since %s", ErrFull, time.Unix(0, at).UTC().Format(time.RFC3339))
}

// noteFull records n appends refused for room.
func (s *Spool) noteFull(n int) {
	s.full.Add(uint64(n))
	s.fullAt.Store(time.Now().UnixNano())
}

// fail records the first IO error; every later Append returns it.
func (s *Spool) fail(err error) {
	if s.failure.CompareAndSwap(nil, &err) {
		s.log.Error("spool: unusable after IO error, appends are refused", "err", err)
	}
}

// ObserveCommits has f told the duration of every group commit that
// succeeds (its one write and one fsync): the least an append waits, so
// the disk's part of an acknowledgement's latency. f runs on the spool's
// writer and must be quick; it replaces the observer set before.
func (s *Spool) ObserveCommits(f func(time.Duration)) { s.observeCommit.Store(&f) }

// Stats returns cumulative counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	n := len(s.segments)
	s.mu.Unlock()
	return Stats{
		Appends:  s.appends.Load(),
		Syncs:    s.syncs.Load(),
		Full:     s.full.Load(),
		Segments: n,
		Bytes:    s.diskBytes.Load(),
	}
}

// endLocked returns the durable end of the log. s.mu must be held.
func (s *Spool) endLocked() Position {
	last := s.segments[len(s.segments)-1]
	return Position{last.seq, last.size}
}

// Close flushes queued appends, fails later ones with ErrClosed and closes
// the active segment. Readers keep working until they have read everything
// durable, then Next returns ErrClosed. Close is idempotent.
func (s *Spool) Close() error {
	s.qmu.Lock()
	if s.closing {
		s.qmu.Unlock()
		<-s.closed
		return nil
	}
	s.closing = true
	s.qmu.Unlock()
	s.signal()
	<-s.writerDone

	// A reused active file is cut to its data, so a clean restart finds no
	// frames of its former segment to discard.
	err := sealSegment(s.active, s.activeSize)
	if cerr := s.active.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		err = fmt.Errorf("spool: close segment %d: %w", s.activeSeq, err)
	}
	if lerr := s.lock.release(); err == nil && lerr != nil {
		err = fmt.Errorf("spool: release lock: %w", lerr)
	}
	close(s.closed)
	return err
}
