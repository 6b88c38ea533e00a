package main

import (
	"math"
	"testing"
)

func TestStorageCeiling(t *testing.T) {
	ref := &reference{perEvent: map[string]float64{"bare handler": 4.26, "load generator": 0.47, "whole machine": 4.73}}
	for _, tc := range []struct {
		name string
		got  map[string]float64
		want float64
		ok   bool
	}{
		{"server mode", map[string]float64{"proxy": 11, "redis": 3.9, "clickhouse": 7.81, "load generator": 1.01, "whole machine": 25}, 4.73 / (4.26 + 1.01 + 7.81), true},
		{"embedded mode: ClickHouse is in the proxy", map[string]float64{"proxy": 29, "load generator": 1.7}, 0, false},
		{"a ClickHouse that cost nothing", map[string]float64{"clickhouse": 0, "load generator": 0.5}, 4.73 / (4.26 + 0.5), true},
	} {
		got, ok := storageCeiling(ref, phaseFigures{perEvent: tc.got})
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: %.4f %v, want %.4f %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := storageCeiling(&reference{}, phaseFigures{perEvent: map[string]float64{"clickhouse": 7}}); ok {
		t.Error("a reference without its machine's CPU gave a ceiling")
	}
}
