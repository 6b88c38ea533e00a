package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// perfRun is one run of an edge scenario on a fresh stack: its throughput
// as a ratio to the bare handler measured beside it, CPU per event by
// process, the proxy's peak RSS, and the half-peak load.
type perfRun struct {
	ratio   float64
	ceiling float64            // storageCeiling's, 0 where the run has none
	cpu     map[string]float64 // µs an event, by process
	peakRSS int64
	half    *halfPeak
}

// edgeScenario is one of the edge scenarios -scenario names.
type edgeScenario struct {
	name, title string
	halfGoal    time.Duration // p99 at half the peak rate
	batch       bool
	shape       batchShape
}

var edgeScenarios = []edgeScenario{
	{name: "events", title: "POST /v1/events, one event a request", halfGoal: 10 * time.Millisecond},
	{name: "batch", title: "POST /batch/, " + browserFlush.String(), halfGoal: 50 * time.Millisecond, batch: true, shape: browserFlush},
	{name: "batch-server", title: "POST /batch/, " + serverFlush.String(), halfGoal: 50 * time.Millisecond, batch: true, shape: serverFlush},
}

// batchPerBody is the events of each /batch/ body of the batch scenarios.
const batchPerBody = 50

// runEdge runs the edge scenarios scenario names ("all" for every one)
// o.runs times in each mode of o, then the RSS run, and prints a summary
// of each scenario and mode.
func runEdge(o perfOptions, scenario string) error {
	if scenario != "all" && !slices.ContainsFunc(edgeScenarios, func(sc edgeScenario) bool { return sc.name == scenario }) {
		return nil
	}
	// One build of the proxy for every run's fresh environment.
	binEnv := newEnv()
	defer binEnv.close()
	var err error
	if o.built, err = benchProxyBinary(binEnv); err != nil {
		return err
	}
	var summaries []string
	for _, sc := range edgeScenarios {
		if scenario != "all" && scenario != sc.name {
			continue
		}
		var bodies [][]byte
		if sc.batch {
			bodies = buildPerfBodies(o, sc.shape)
		}
		for _, mode := range o.modes {
			runs, err := runScenario(o, sc, mode, bodies)
			if err != nil {
				return err
			}
			summaries = append(summaries, edgeSummary(sc, mode, runs))
			fmt.Print("\n" + summaries[len(summaries)-1])
		}
		if sc.name == "events" && o.rssRate > 0 && slices.Contains(o.modes, serverMode) {
			if err := runRSSRate(o); err != nil {
				return err
			}
		}
	}
	if len(summaries) > 1 {
		fmt.Println("\n=== edge scenarios: summary ===")
		fmt.Print(strings.Join(summaries, ""))
	}
	return nil
}

// buildPerfBodies builds the bodies of a batch scenario once, for all its
// runs: each run is a fresh stack, which has seen none of their uuids.
func buildPerfBodies(o perfOptions, shape batchShape) [][]byte {
	// Enough for the whole run at up to 150,000 events/s: every uuid is
	// sent once, so a faster system runs out and says so.
	n := max(15000, int((o.warmup+o.duration).Seconds()*150000/batchPerBody))
	fmt.Printf("\nbuilding %d gzip /batch/ bodies of %d posthog-js-shaped events, %s …\n", n, batchPerBody, shape)
	return buildBatchBodies(n, batchPerBody, o.contacts, shape)
}

// runScenario runs sc o.runs times in mode, each on a fresh environment.
func runScenario(o perfOptions, sc edgeScenario, mode stackMode, bodies [][]byte) ([]*perfRun, error) {
	runs := make([]*perfRun, 0, o.runs)
	for i := range o.runs {
		fmt.Printf("\n=== %s, %s, run %d of %d ===\n", sc.title, modeTitle(mode), i+1, o.runs)
		env := newEnv()
		env.built = o.built
		var r *perfRun
		var err error
		if sc.batch {
			r, err = runBatch(env, o, mode, sc, bodies)
		} else {
			r, err = run(env, o, mode, sc)
		}
		env.close()
		if err != nil {
			return nil, fmt.Errorf("%s, %s mode, run %d: %w", sc.name, mode, i+1, err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// edgeSummary is the summary of a scenario's runs in one mode: medians,
// and every run's value from the lowest to the highest.
func edgeSummary(sc edgeScenario, mode stackMode, runs []*perfRun) string {
	var ratios, ceilings, p50s, p99s, rss []float64
	for _, r := range runs {
		ratios = append(ratios, r.ratio)
		if r.ceiling > 0 {
			ceilings = append(ceilings, r.ceiling)
		}
		p50s = append(p50s, ms(r.half.res.p(0.50)))
		p99s = append(p99s, ms(r.half.res.p(0.99)))
		rss = append(rss, float64(r.peakRSS>>20))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s: median of %d runs\n", sc.title, modeTitle(mode), len(runs))
	fmt.Fprintf(&b, "  ratio to bare:    median %.2f (%s; goal ≥ 0.50)\n", median(ratios), spread(ratios, "%.2f"))
	if len(ceilings) > 0 {
		fmt.Fprintf(&b, "  storage ceiling:  median %.2f (%s)\n", median(ceilings), spread(ceilings, "%.2f"))
	}
	fmt.Fprintf(&b, "  half-peak:        median p50 %.2f ms, p99 %.2f ms (p99 %s; goal ≤ %s)\n", median(p50s), median(p99s), spread(p99s, "%.2f ms"), sc.halfGoal)
	fmt.Fprintf(&b, "  cpu per event:    median %s\n", medianCPU(runs))
	fmt.Fprintf(&b, "  proxy peak RSS:   median %.0f MiB (%s)\n", median(rss), spread(rss, "%.0f MiB"))
	return b.String()
}

// medianCPU prints the median CPU per event of each process the runs
// measured, in the order proxy, Redis, ClickHouse.
func medianCPU(runs []*perfRun) string {
	var parts []string
	for _, name := range []string{"proxy", "redis", "clickhouse"} {
		var xs []float64
		for _, r := range runs {
			if v, ok := r.cpu[name]; ok {
				xs = append(xs, v)
			}
		}
		if len(xs) > 0 {
			parts = append(parts, fmt.Sprintf("%s %.2f µs", name, median(xs)))
		}
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
