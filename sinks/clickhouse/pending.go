package clickhouse

import (
	"context"
	"sort"

	"github.com/hogsend/hogsend-proxy/sinks/spool"
)

// The Writer's pending rows, seen table by table: how many, inserting a
// range of them, and which spool entry a row came from.

// tableIndex numbers the tables in insert order (Writer.done, entryMark).
type tableIndex int

const (
	idxContacts tableIndex = iota
	idxAliases
	idxAPIKeys
	idxLists
	idxEvents
	numTables
)

func (t tableIndex) name() string {
	return [numTables]string{tableContacts, tableAliases, tableAPIKeys, tableLists, tableEvents}[t]
}

// entryMark is one taken spool entry: its position, and how many pending
// rows each table had once its rows were added.
type entryMark struct {
	pos  spool.Position
	ends [numTables]int
}

// pendingLen is the number of pending rows of table t.
func (w *Writer) pendingLen(t tableIndex) int {
	p := &w.pending
	return [numTables]int{len(p.Contacts), len(p.Aliases), len(p.APIKeys), len(p.Lists), len(p.Events)}[t]
}

// insertRange inserts the pending rows [lo, hi) of table t, bounded by
// InsertTimeout.
func (w *Writer) insertRange(ctx context.Context, t tableIndex, lo, hi int) error {
	ctx, cancel := context.WithTimeout(ctx, w.opts.InsertTimeout)
	defer cancel()
	p := &w.pending
	switch t {
	case idxContacts:
		return w.b.InsertContacts(ctx, p.Contacts[lo:hi])
	case idxAliases:
		return w.b.InsertAliases(ctx, p.Aliases[lo:hi])
	case idxAPIKeys:
		return w.b.InsertAPIKeys(ctx, p.APIKeys[lo:hi])
	case idxLists:
		return w.b.InsertLists(ctx, p.Lists[lo:hi])
	default:
		return w.b.InsertEvents(ctx, p.Events[lo:hi])
	}
}

// entryPos is the position of the spool entry pending row i of table t
// came from.
func (w *Writer) entryPos(t tableIndex, i int) spool.Position {
	k := sort.Search(len(w.marks), func(k int) bool { return w.marks[k].ends[t] > i })
	if k == len(w.marks) {
		return w.last
	}
	return w.marks[k].pos
}
