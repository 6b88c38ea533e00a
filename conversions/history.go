package conversions

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Dispatch statuses, as conversion_dispatches stores them.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// historyLimit bounds the rows held while ClickHouse is unreachable; past it
// the oldest are dropped (and counted): the history is a record, the
// conversions themselves are safe in their queues.
const historyLimit = 200_000

// History writes conversion_dispatches rows in the background, one insert
// per second, so that recording never slows delivery down.
type History struct {
	insert  func(ctx context.Context, rows []Dispatch) error
	log     *slog.Logger
	mu      sync.Mutex
	rows    []Dispatch
	dropped atomic.Uint64
	written atomic.Uint64
}

// NewHistory returns a History inserting with insert.
func NewHistory(insert func(ctx context.Context, rows []Dispatch) error, log *slog.Logger) *History {
	return &History{insert: insert, log: log}
}

// Record queues one row.
func (h *History) Record(d Dispatch) {
	h.mu.Lock()
	if len(h.rows) >= historyLimit {
		h.rows = h.rows[1:]
		h.dropped.Add(1)
	}
	h.rows = append(h.rows, d)
	h.mu.Unlock()
}

// Written and Dropped count rows inserted and rows given up.
func (h *History) Written() uint64 { return h.written.Load() }
func (h *History) Dropped() uint64 { return h.dropped.Load() }

// Flush inserts what is queued now.
func (h *History) Flush(ctx context.Context) error {
	h.mu.Lock()
	rows := h.rows
	h.rows = nil
	h.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	if err := h.insert(ctx, rows); err != nil {
		h.mu.Lock()
		h.rows = append(rows, h.rows...)
		if over := len(h.rows) - historyLimit; over > 0 {
			h.rows = h.rows[over:]
			h.dropped.Add(uint64(over))
		}
		h.mu.Unlock()
		return err
	}
	h.written.Add(uint64(len(rows)))
	return nil
}

// Run flushes every second until ctx ends, then once more.
func (h *History) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := h.Flush(fctx); err != nil {
				h.log.Warn("conversion history not written at shutdown", "err", err)
			}
			cancel()
			return
		case <-t.C:
		}
		err := h.Flush(ctx)
		if err != nil && ctx.Err() != nil {
			continue // shutting down: the rows go in the final flush above
		}
		if err != nil && !failing {
			h.log.Warn("writing conversion history failed; retrying", "err", err)
		}
		failing = err != nil
	}
}
