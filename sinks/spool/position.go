package spool

import "fmt"

// Position is the position in the log *after* an entry: the segment and the
// byte offset within it at which the next entry starts. The zero Position
// precedes every entry, so it is the cursor of a consumer that has consumed
// nothing. Positions are comparable with == and ordered by Compare.
type Position struct {
	Segment uint64
	Offset  int64
}

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Position) Compare(q Position) int {
	switch {
	case p.Segment < q.Segment:
		return -1
	case p.Segment > q.Segment:
		return 1
	case p.Offset < q.Offset:
		return -1
	case p.Offset > q.Offset:
		return 1
	}
	return 0
}

func (p Position) String() string {
	return fmt.Sprintf("%d:%d", p.Segment, p.Offset)
}
