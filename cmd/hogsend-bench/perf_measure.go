package main

import (
	"fmt"
	"time"
)

// eventDriver drives l for d with generator: wrk, or Go's fasthttp client.
func eventDriver(env *benchEnv, l *eventLoad, generator string) func(d time.Duration) (*loadResult, error) {
	if generator != "wrk" {
		return l.run
	}
	dir := env.TempDir()
	return func(d time.Duration) (*loadResult, error) { return l.runWrk(d, dir) }
}

// measuring watches a stack's CPU and the proxy's RSS over a measured
// phase.
type measuring struct {
	meter   *cpuMeter
	stopRSS func() int64
}

// phaseFigures is what a measured phase cost: the CPU report as printed,
// CPU per event by process, and the proxy's peak RSS.
type phaseFigures struct {
	report   string
	perEvent map[string]float64
	peakRSS  int64
}

func startMeasuring(st *stack) *measuring {
	return &measuring{meter: st.meter(), stopRSS: watchPeakRSS(st.proxyPID)}
}

// done reads the figures of events acknowledged over wall.
func (m *measuring) done(events int64, wall time.Duration) phaseFigures {
	perEvent := m.meter.perEvent(events)
	return phaseFigures{report: m.meter.report(events, wall), perEvent: perEvent, peakRSS: m.stopRSS()}
}

// finishRun prints the half-peak load and the proxy's RSS of a run and
// returns its figures.
func finishRun(ref *reference, res *loadResult, peak phaseFigures, half *halfPeak, d, halfGoal time.Duration) *perfRun {
	half.print(d, halfGoal)
	fmt.Printf("  proxy peak RSS:   %d MiB at full speed, %d MiB at half of it\n", peak.peakRSS>>20, half.peakRSS>>20)
	ceiling, _ := storageCeiling(ref, peak)
	return &perfRun{ratio: float64(res.acked) / res.elapsed.Seconds() / ref.rate, ceiling: ceiling, cpu: peak.perEvent,
		peakRSS: max(peak.peakRSS, half.peakRSS), half: half}
}
