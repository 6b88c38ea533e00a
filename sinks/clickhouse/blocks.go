package clickhouse

import (
	"reflect"
	"unsafe"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
)

// An insert is sent as blocks of at most insertBlockBytes of String data
// (a row larger than that is a block of its own), each flushed before the
// next is built: the client then holds one block's columns and one encoded
// block, not the whole insert's twice over, whatever the writer's batch
// size. The server squashes the blocks of one INSERT into parts of
// min_insert_block_size_rows/bytes, so the insert still makes one part
// (docs/architecture.md § ClickHouse writer).
const insertBlockBytes = 4 << 20

// insertBlockRows bounds a block's rows too. A column keeps its capacity
// from one block of an insert to the next (a flush resets it), and grows by
// append within one, 1.25× a step once large: building n rows' String
// positions allocates about five times their size. Blocks of a few
// thousand rows make that one block's worth, reused by the insert's other
// blocks, instead of the whole insert's.
const insertBlockRows = 8192

// blockEnds cuts the rows of data (one slice per column, all of one length)
// into blocks of about maxBytes of String values and at most maxRows rows,
// and returns each block's end row; there is always at least one block.
func blockEnds(data []any, maxBytes, maxRows int) []int {
	n := columnLen(data)
	var strs [][]string
	for _, d := range data {
		if s, ok := d.([]string); ok {
			strs = append(strs, s)
		}
	}
	var ends []int
	size, start := 0, 0
	for i := range n {
		row := 0
		for _, s := range strs {
			row += len(s[i])
		}
		if size > 0 && size+row > maxBytes || i-start == maxRows {
			ends = append(ends, i)
			size, start = 0, i
		}
		size += row
	}
	return append(ends, n)
}

// columnLen is the number of rows of data's columns.
func columnLen(data []any) int {
	if len(data) == 0 {
		return 0
	}
	return reflect.ValueOf(data[0]).Len()
}

// columnRange is rows [lo, hi) of one column slice, of the same type; the
// whole column when the range covers it.
func columnRange(d any, lo, hi int) any {
	v := reflect.ValueOf(d)
	if lo == 0 && hi == v.Len() {
		return d
	}
	return v.Slice(lo, hi).Interface()
}

// reserveMin is the String column size from which reserving pays off.
const reserveMin = 1 << 20

// reserveStrings pre-sizes the large String columns of a batch for its
// largest block. A column grows its buffer by append, in 1.25× steps once
// large, copying it about five times over; appending one placeholder of the
// final size and then Reset, which keeps the capacity, makes it one
// allocation, reused by every later block of the insert.
func (s *Server) reserveStrings(cols []column.Interface, types []string, data []any, ends []int) {
	for i, d := range data {
		vals, ok := d.([]string)
		if !ok || i >= len(cols) || types[i] != "String" {
			continue
		}
		total := largestBlock(vals, ends)
		if total < reserveMin {
			continue
		}
		s.scratchMu.Lock()
		if cap(s.scratch) < total {
			s.scratch = make([]byte, total)
		}
		placeholder := unsafe.String(unsafe.SliceData(s.scratch), total)
		_, err := cols[i].Append([]string{placeholder})
		s.scratchMu.Unlock()
		if err == nil {
			cols[i].Reset()
		}
	}
}

// largestBlock is the most bytes of vals one block holds.
func largestBlock(vals []string, ends []int) int {
	most, lo := 0, 0
	for _, hi := range ends {
		total := 0
		for _, v := range vals[lo:hi] {
			total += len(v)
		}
		most, lo = max(most, total), hi
	}
	return most
}
