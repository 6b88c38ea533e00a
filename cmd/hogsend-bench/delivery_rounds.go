package main

import (
	"fmt"
	"slices"
)

// printRounds prints the on/off ratio and the proxy's added CPU per event
// over the rounds: the median, and the spread from the lowest to the
// highest.
func printRounds(t *deliveryTarget, kind trafficKind, pairs []deliveryPair) {
	ratios := make([]float64, len(pairs))
	added := make([]float64, len(pairs))
	for i, p := range pairs {
		ratios[i] = p.on.rate() / p.off.rate()
		added[i] = p.on.proxyPerEvent() - p.off.proxyPerEvent()
	}
	fmt.Printf("\n%s, %s over %d rounds\n", t.name, kind.name, len(pairs))
	fmt.Printf("  ratio on/off:     median %.2f (%s; goal ≥ 0.80)\n", median(ratios), spread(ratios, "%.2f"))
	fmt.Printf("  proxy CPU:        median +%.2f µs per event with the %s (%s)\n", median(added), t.name, spread(added, "%+.2f"))
}

// median of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// spread prints xs, sorted, from the lowest to the highest.
func spread(xs []float64, format string) string {
	s := slices.Clone(xs)
	slices.Sort(s)
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf(format, x)
	}
	return "runs " + out
}
