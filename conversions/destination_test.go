package conversions

import (
	"errors"
	"slices"
	"testing"
)

// TestBuildBatch: conversions past max come back Retry, those that do not
// build Rejected with the prefix, and the rest are built in order with their
// batch positions.
func TestBuildBatch(t *testing.T) {
	batch := []Conversion{{DedupID: "a"}, {DedupID: "bad"}, {DedupID: "c"}, {DedupID: "d"}}
	out := make([]Outcome, len(batch))
	items, pos := BuildBatch(batch, out, 3, "x: ", func(c *Conversion) (string, error) {
		if c.DedupID == "bad" {
			return "", errors.New("no identifier")
		}
		return "built " + c.DedupID, nil
	})
	if !slices.Equal(items, []string{"built a", "built c"}) || !slices.Equal(pos, []int{0, 2}) {
		t.Fatalf("items %q at %v", items, pos)
	}
	if out[1].Class != Rejected || out[1].Reason != "x: no identifier" {
		t.Fatalf("unbuildable: %+v", out[1])
	}
	if out[3].Class != Retry || out[0] != (Outcome{}) || out[2] != (Outcome{}) {
		t.Fatalf("outcomes %+v", out)
	}
	if items, _ := BuildBatch(batch[:1], make([]Outcome, 1), 0, "", func(*Conversion) (int, error) { return 1, nil }); len(items) != 1 {
		t.Fatal("max 0 must mean no limit")
	}
}
