package meta

import (
	"testing"
	"time"
)

// BenchmarkBuildAndEncode is one full batch of the documented example: hashing
// and JSON encoding dominate, and conversions are low-volume, so this only
// guards against a regression by orders of magnitude.
func BenchmarkBuildAndEncode(b *testing.B) {
	const n = 100
	c := exampleConversion()
	now := t0.Add(time.Hour)
	events := make([]event, n)
	b.ReportAllocs()
	for b.Loop() {
		for i := range events {
			ev, err := builder{}.event(c, now)
			if err != nil {
				b.Fatal(err)
			}
			events[i] = ev
		}
		body, err := encode(events, "", "token")
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(body)))
	}
}
