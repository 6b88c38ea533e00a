package main

import "fmt"

func (r *fleetRun) rate() float64 { return float64(r.acked) / r.elapsed.Seconds() }

// perEvent is x per acknowledged event of the run.
func (r *fleetRun) perEvent(x int64) float64 { return float64(x) / float64(max(r.acked, 1)) }

// redisTotal sums the masters' work.
func (r *fleetRun) redisTotal() redisNode {
	var t redisNode
	for _, m := range r.redis {
		t.calls, t.in, t.out = t.calls+m.calls, t.in+m.in, t.out+m.out
	}
	return t
}

// chTotal sums the shards' work.
func (r *fleetRun) chTotal() chShard {
	var t chShard
	for _, s := range r.shards {
		t.inserts, t.rows, t.parts, t.fetches = t.inserts+s.inserts, t.rows+s.rows, t.parts+s.parts, t.fetches+s.fetches
	}
	return t
}

func (r *fleetRun) partsPerInsert() float64 {
	return float64(r.chTotal().parts) / float64(max(r.batches, 1))
}

func printFleet(label string, runs ...*fleetRun) {
	for _, r := range runs {
		printFleetRun(label, r, runs[0])
	}
	printFleetGrowth(runs[0], runs[len(runs)-1])
}

func printFleetRun(label string, r, base *fleetRun) {
	fmt.Printf("\nfleet of %d proxies on %s\n", r.proxies, label)
	fmt.Printf("  acknowledged:     %.0f events/s (%.2f of one proxy's), p50 %s p99 %s, errors %d\n", r.rate(), r.rate()/base.rate(), r.p50, r.p99, r.errors)
	fmt.Print(r.cpu)
	fmt.Printf("  spool:            %.1f events per fsync (each proxy commits its own groups)\n", float64(r.acked)/float64(max(r.fsyncs, 1)))
	t := r.redisTotal()
	fmt.Printf("  redis:            %.2f commands, %.0f bytes in and %.0f out per event over %d masters\n",
		r.perEvent(t.calls), r.perEvent(t.in), r.perEvent(t.out), len(r.redis))
	for i, m := range r.redis {
		fmt.Printf("    master %d (%s): %.2f commands, %.0f bytes in, %.0f out per event; %.0f commands/s\n",
			i+1, m.addr, r.perEvent(m.calls), r.perEvent(m.in), r.perEvent(m.out), float64(m.calls)/r.elapsed.Seconds())
	}
	secs := r.elapsed.Seconds()
	fmt.Printf("  clickhouse:       %.2f inserts per 1000 events from the proxies (%.2f/s per proxy), %.2f parts written per insert\n",
		1000*r.perEvent(r.batches), float64(r.batches)/secs/float64(r.proxies), r.partsPerInsert())
	for i, s := range r.shards {
		fmt.Printf("    shard %d: per 1000 events %.2f inserts received, %.2f parts written, %.2f parts fetched; %.2f parts/s, %.0f rows per part written\n",
			i+1, 1000*r.perEvent(s.inserts), 1000*r.perEvent(s.parts), 1000*r.perEvent(s.fetches), float64(s.parts)/secs, float64(s.rows)/float64(max(s.parts, 1)))
	}
}

// printFleetGrowth sets the larger fleet's per-event figures against the
// single proxy's: on one machine the rate need not grow, these must not.
func printFleetGrowth(one, many *fleetRun) {
	ratio := func(a, b float64) float64 { return a / max(b, 1e-9) }
	o, m := one.redisTotal(), many.redisTotal()
	fmt.Printf("\n%d proxies against 1: events/s ×%.2f; redis per event: commands ×%.2f, bytes in ×%.2f, out ×%.2f; clickhouse: inserts per event ×%.2f, parts per insert ×%.2f\n",
		many.proxies, ratio(many.rate(), one.rate()),
		ratio(many.perEvent(m.calls), one.perEvent(o.calls)), ratio(many.perEvent(m.in), one.perEvent(o.in)), ratio(many.perEvent(m.out), one.perEvent(o.out)),
		ratio(many.perEvent(many.batches), one.perEvent(one.batches)), ratio(many.partsPerInsert(), one.partsPerInsert()))
}
