//go:build race

package proxy

// raceEnabled: the race detector makes sync.Pool drop some of what it is
// given, so counts of allocations around a pool do not hold under it.
const raceEnabled = true
