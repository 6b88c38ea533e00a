package conversions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hogsend/hogsend-proxy/sinks/spool"
)

// ReplayResult counts what a replay did.
type ReplayResult struct {
	Replayed    int // dead letters re-sent
	Delivered   int // accepted by the platform this time
	Failed      int // refused again (dead-lettered anew with the new reason)
	Deferred    int // the platform asked to wait: dead-lettered anew, replay later
	Undecodable int
}

// Replay re-sends dead-lettered conversions of one destination with their
// original dedup ids, so that the platform counts each at most once. The
// dead letters are marked replayed first; any conversion not delivered
// this time is dead-lettered again under a newer version, so nothing leaves
// the dead-letter store without reaching the platform. dir is a scratch
// directory for the deferred queue (removed afterwards).
func Replay(ctx context.Context, dest Destination, letters []ConversionDeadLetter, store DeadLetterStore, history *History, opts DispatchOptions, dir string) (ReplayResult, error) {
	var res ReplayResult
	opts.defaults()
	var convs []Conversion
	var marks []ConversionDeadLetter
	now := opts.Now().UnixMilli()
	for _, l := range letters {
		var c Conversion
		if err := json.Unmarshal(l.Conversion, &c); err != nil {
			res.Undecodable++
			continue
		}
		convs = append(convs, c)
		m := l
		m.ReplayedAt, m.Version = now, max(l.Version+1, uint64(now))
		marks = append(marks, m)
	}
	if len(convs) == 0 {
		return res, nil
	}
	if err := store.InsertConversionDeadLetters(ctx, marks); err != nil {
		return res, fmt.Errorf("mark dead letters replayed: %w", err)
	}
	res.Replayed = len(convs)
	d, err := OpenDispatcher(dir, dest, store, history, opts)
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	defer d.Close()
	// Later versions than the marks, so a re-refusal is a dead letter again.
	var newest uint64
	for _, m := range marks {
		newest = max(newest, m.Version)
	}
	floor := time.UnixMilli(int64(newest) + 1)
	d.opts.Now = func() time.Time {
		if t := opts.Now(); t.After(floor) {
			return t
		}
		return floor
	}
	derr := d.deliver(ctx, convs)
	res.Delivered, res.Failed = int(d.Delivered()), int(d.Failed())
	if derr != nil {
		// Halted or interrupted: put back everything not delivered.
		return res, errors.Join(fmt.Errorf("replay %s: %w (%s)", dest.Name(), derr, d.Halted()), d.restore(ctx, convs, "replay interrupted"))
	}
	deferred, err := d.drainDeferred()
	if err != nil {
		return res, err
	}
	res.Deferred = len(deferred)
	if len(deferred) > 0 {
		if err := d.restore(ctx, deferred, "the platform asked to retry later; replay again"); err != nil {
			return res, err
		}
	}
	return res, nil
}

// restore dead-letters convs again (a newer version than their replay mark).
func (d *Dispatcher) restore(ctx context.Context, convs []Conversion, reason string) error {
	rows := make([]ConversionDeadLetter, len(convs))
	for i := range convs {
		rows[i] = d.deadLetter(&convs[i], reason)
	}
	return d.storeDeadLetters(ctx, rows)
}

// drainDeferred reads every conversion parked in the deferred queue.
func (d *Dispatcher) drainDeferred() ([]Conversion, error) {
	var out []Conversion
	buf := make([]spool.Entry, 0, 16)
	for d.deferred.Backlog() > 0 {
		entries, err := d.deferred.r.Next(context.Background(), cap(buf), buf[:0])
		if err != nil {
			return out, fmt.Errorf("read deferred conversions: %w", err)
		}
		for _, e := range entries {
			qe, err := decodeEntry(e.Data)
			if err != nil {
				return out, err
			}
			out = append(out, qe.Conversions...)
		}
		if len(entries) > 0 {
			if err := d.deferred.r.Commit(entries[len(entries)-1].Pos); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}
