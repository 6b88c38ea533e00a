package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// Isolation finds the rows of a table ClickHouse refuses by bisection: a
// refused range is split in two halves, each half is inserted on its own,
// and the halves refused again are split further, down to single rows. A
// single refused row is dead-lettered with the error it failed with. With k
// bad rows among n, that is about 2k·log2(n) inserts, of which the
// successful ones (at most 2k·log2(n) small parts) hold the good rows.
//
// Its state survives a transient failure: when an insert of a half (or the
// dead-letter insert) fails because of the server or the network, flush
// backs off and calls isolate again, which resumes where it stopped instead
// of sending the whole table again. Nothing is committed before every row
// of the table is either inserted or in dead_letters.

// isolation is the progress of isolating one table of the pending rows.
type isolation struct {
	table tableIndex
	// todo is a stack of row ranges still to insert; a range with err set
	// is known to be refused with that error and is split (or, for one row,
	// dead-lettered) next.
	todo []rowRange
	// dead are the refused rows not yet stored in dead_letters.
	dead []DeadLetter
}

type rowRange struct {
	lo, hi int
	err    error
}

func newIsolation(t tableIndex, n int, err error) *isolation {
	return &isolation{table: t, todo: []rowRange{{lo: 0, hi: n, err: err}}}
}

// isolate carries on with w.iso until every row of its table is inserted or
// dead-lettered, or an insert fails for a reason a retry may fix.
func (w *Writer) isolate(ctx context.Context) error {
	iso := w.iso
	t := iso.table
	for len(iso.todo) > 0 {
		r := &iso.todo[len(iso.todo)-1]
		if r.err == nil {
			err := w.insertRange(ctx, t, r.lo, r.hi)
			if err == nil {
				iso.todo = iso.todo[:len(iso.todo)-1]
				continue
			}
			if ctx.Err() != nil || classifyInsertError(err) == failRetry {
				return fmt.Errorf("insert rows %d..%d of %d into %s while isolating refused rows: %w", r.lo, r.hi, w.pendingLen(t), t.name(), err)
			}
			r.err = err
		}
		rg := *r
		iso.todo = iso.todo[:len(iso.todo)-1]
		if rg.hi-rg.lo > 1 {
			mid := rg.lo + (rg.hi-rg.lo)/2
			// Pushed right first, so rows go in spool order.
			iso.todo = append(iso.todo, rowRange{lo: mid, hi: rg.hi}, rowRange{lo: rg.lo, hi: mid})
			continue
		}
		if classifyInsertError(rg.err) != failRows {
			// One row too big for one insert cannot be: retry it as it is.
			iso.todo = append(iso.todo, rowRange{lo: rg.lo, hi: rg.hi})
			return fmt.Errorf("insert row %d of %s: %w", rg.lo, t.name(), rg.err)
		}
		iso.dead = append(iso.dead, deadLetterOf(&w.pending, t, rg.lo, rg.err.Error(), w.entryPos(t, rg.lo), time.Now().UnixMilli()))
	}
	if len(iso.dead) == 0 {
		return nil
	}
	ictx, cancel := context.WithTimeout(ctx, w.opts.InsertTimeout)
	err := w.b.InsertDeadLetters(ictx, iso.dead)
	cancel()
	if err != nil {
		// Whatever the cause, the rows are neither inserted nor
		// dead-lettered: retry, never commit past them.
		return fmt.Errorf("insert %d refused rows of %s into %s: %w", len(iso.dead), t.name(), tableDeadLetters, err)
	}
	for i := range iso.dead {
		d := &iso.dead[i]
		// The row itself (personal data, maybe large) stays in the table.
		w.log.Error("clickhouse writer: row refused, moved to dead letters", "table", d.Table, "reason", d.Reason, "pos", d.Pos.String())
	}
	w.dead += len(iso.dead)
	w.deadLettered.Add(uint64(len(iso.dead)))
	iso.dead = nil
	return nil
}
