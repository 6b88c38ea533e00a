package main

import (
	"math"
	"testing"
)

func TestStorageCeiling(t *testing.T) {
	ref := &reference{own: 4.26, generator: 0.47, machine: 4.73}
	for _, tc := range []struct {
		name string
		got  phaseFigures
		want float64
		ok   bool
	}{
		{"server mode", phaseFigures{perEvent: map[string]float64{"proxy": 11, "redis": 3.9, "clickhouse": 7.81}, generator: 1.01}, 4.73 / (4.26 + 1.01 + 7.81), true},
		{"embedded mode: ClickHouse is in the proxy", phaseFigures{perEvent: map[string]float64{"proxy": 29}, generator: 1.7}, 0, false},
		{"a ClickHouse that cost nothing", phaseFigures{perEvent: map[string]float64{"clickhouse": 0}, generator: 0.5}, 4.73 / (4.26 + 0.5), true},
	} {
		got, ok := storageCeiling(ref, tc.got)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: %.4f %v, want %.4f %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := storageCeiling(&reference{}, phaseFigures{perEvent: map[string]float64{"clickhouse": 7}}); ok {
		t.Error("a reference without its machine's CPU gave a ceiling")
	}
}
