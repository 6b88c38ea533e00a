package conversions

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/hogsend/hogsend-proxy/sinks/spool"
)

// queueConsumer is the one reader of a destination queue.
const queueConsumer = "dispatch"

// queueEntry is one record of a destination queue: conversions appended
// together, and when they may be sent (deferred retries).
type queueEntry struct {
	NotBefore   int64        `json:"not_before,omitempty"` // Unix ms; 0 = now
	Conversions []Conversion `json:"conversions"`
}

// Queue is a durable FIFO of conversions for one destination: a spool of its
// own. Append returns once the conversions are fsynced; the dispatcher
// commits past an entry only after each conversion in it was delivered or
// dead-lettered, so a crash re-sends (with the same dedup ids) and never loses.
type Queue struct {
	sp *spool.Spool
	r  *spool.Reader
}

// OpenQueue opens (or creates) the queue in dir.
func OpenQueue(dir string, log *slog.Logger) (*Queue, error) {
	sp, err := spool.Open(spool.Options{Dir: dir, Consumers: []string{queueConsumer}, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open conversion queue %s: %w", dir, err)
	}
	r, err := sp.Reader(queueConsumer)
	if err != nil {
		sp.Close()
		return nil, fmt.Errorf("open conversion queue %s: %w", dir, err)
	}
	return &Queue{sp: sp, r: r}, nil
}

// entryConversions bounds one entry (a conversion is well under 8 KiB, so an
// entry stays far below the spool's payload limit).
const entryConversions = 1000

// Append queues convs durably, to be sent at or after notBefore (Unix ms,
// 0 for now).
func (q *Queue) Append(ctx context.Context, convs []Conversion, notBefore int64) error {
	for len(convs) > 0 {
		n := min(len(convs), entryConversions)
		payload, err := json.Marshal(queueEntry{NotBefore: notBefore, Conversions: convs[:n]})
		if err != nil {
			return fmt.Errorf("encode queued conversions: %w", err)
		}
		if _, err := q.sp.Append(ctx, payload); err != nil {
			return fmt.Errorf("queue conversions: %w", err)
		}
		convs = convs[n:]
	}
	return nil
}

// Backlog is the bytes appended and not yet committed by the dispatcher.
func (q *Queue) Backlog() int64 { return q.r.Backlog() }

// Close closes the reader and the spool.
func (q *Queue) Close() error {
	q.r.Close()
	return q.sp.Close()
}

// decodeEntry decodes one queue record.
func decodeEntry(data []byte) (queueEntry, error) {
	var e queueEntry
	if err := json.Unmarshal(data, &e); err != nil {
		return e, fmt.Errorf("decode queued conversions: %w", err)
	}
	return e, nil
}
