// Package pace lets background delivery (the hand-off to a Hogsend engine,
// the mirror to PostHog) yield the CPU to ingest: a Gate caps how many
// deliveries run at once, halving the cap while the process's goroutines
// wait for a CPU and doubling it back once they do not
// (docs/operations.md § Delivery pacing).
package pace
