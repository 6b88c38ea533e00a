package clickhouse

import (
	"slices"
	"testing"
	"time"
)

func TestBlockEnds(t *testing.T) {
	for _, c := range []struct {
		name string
		data []any
		max  int
		rows int
		want []int
	}{
		{"no rows", []any{[]string{}, []int64{}}, 10, 5, []int{0}},
		{"one block", []any{[]string{"ab", "cd"}, []int64{1, 2}}, 10, 5, []int{2}},
		{"strings of every column count", []any{[]string{"aaaa", "bbbb", "cc"}, []string{"xx", "yy", "z"}}, 7, 5, []int{1, 2, 3}},
		{"cut before the row that passes", []any{[]string{"aaa", "bbb", "ccc", "d"}}, 6, 5, []int{2, 4}},
		{"a row past the bound is a block of its own", []any{[]string{"a", "0123456789", "b"}}, 4, 5, []int{1, 2, 3}},
		{"no string column", []any{[]int64{1, 2, 3}}, 1, 5, []int{3}},
		{"rows bound a block", []any{[]string{"a", "b", "c", "d", "e"}}, 100, 2, []int{2, 4, 5}},
		{"rows bound a block without strings", []any{[]int64{1, 2, 3, 4}}, 1, 3, []int{3, 4}},
		{"bytes cut first, rows count from the cut", []any{[]string{"aaa", "b", "c", "d", "e"}}, 3, 2, []int{1, 3, 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := blockEnds(c.data, c.max, c.rows); !slices.Equal(got, c.want) {
				t.Fatalf("blockEnds = %v, want %v", got, c.want)
			}
		})
	}
}

func TestColumnRange(t *testing.T) {
	times := []time.Time{time.Unix(1, 0), time.Unix(2, 0), time.Unix(3, 0)}
	if got := columnRange(times, 1, 3).([]time.Time); !slices.Equal(got, times[1:]) {
		t.Fatalf("columnRange = %v", got)
	}
	one, two := 1.5, 2.5
	ptrs := []*float64{&one, nil, &two}
	if got := columnRange(ptrs, 0, 2).([]*float64); len(got) != 2 || got[0] != &one || got[1] != nil {
		t.Fatalf("columnRange = %v", got)
	}
	whole := []string{"a", "b"}
	if got := columnRange(whole, 0, 2).([]string); &got[0] != &whole[0] || len(got) != 2 {
		t.Fatal("the whole range must be the column itself")
	}
}

func TestLargestBlock(t *testing.T) {
	vals := []string{"aaaa", "b", "cc", "dddddd"}
	if got := largestBlock(vals, []int{1, 3, 4}); got != 6 {
		t.Fatalf("largestBlock = %d, want 6", got)
	}
	if got := largestBlock(vals, []int{4}); got != 13 {
		t.Fatalf("largestBlock = %d, want 13", got)
	}
}
