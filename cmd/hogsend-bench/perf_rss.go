package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// rssGoal is the proxy's RSS at -rss-rate in server mode that issue 15
// asks for (docs/operations.md § Edge benchmarks).
const rssGoal = 150 << 20

// watchPeakRSS samples a process's VmRSS every 50 ms until the returned
// stop is called, which returns the highest sample.
func watchPeakRSS(pid int) (stop func() int64) {
	var peak atomic.Int64
	sample := func() {
		if rss, _ := testenv.ProcMemory(pid); rss > peak.Load() {
			peak.Store(rss)
		}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			sample()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-exited
		sample()
		return peak.Load()
	}
}

// runRSSRate drives POST /v1/events at rate events a second for d on a
// fresh server-mode stack and prints the proxy's peak RSS beside the goal.
func runRSSRate(o perfOptions) error {
	env := newEnv()
	defer env.close()
	env.built = o.built
	fmt.Printf("\n=== proxy RSS at %d events/s of POST /v1/events, server mode, %s ===\n", o.rssRate, o.duration)
	st, err := startModeStack(env, serverMode, o.cpuProfile != "")
	if err != nil {
		return err
	}
	load, err := newPerfEventLoad(st, o)
	if err != nil {
		return err
	}
	stop := watchPeakRSS(st.proxyPID)
	res := paceEvents(load, o.rssRate, o.duration)
	goMem := readGoMemory(st.base)
	if o.cpuProfile != "" {
		if err := savePprof("http://"+st.pprofAddr+"/debug/pprof/heap", o.cpuProfile+".rss-heap"); err != nil {
			fmt.Println("  heap profile:", err)
		}
	}
	peak := stop()
	reached := float64(res.acked) / res.elapsed.Seconds()
	fmt.Printf("  paced load:       %.0f events/s reached of %d asked, p50 %s  p99 %s, %d errors\n",
		reached, o.rssRate, res.p(0.50), res.p(0.99), res.errors)
	if reached < 0.95*float64(o.rssRate) || res.errors > 0 {
		fmt.Printf("  (the proxy did not sustain %d events/s: the peak below is at %.0f)\n", o.rssRate, reached)
	}
	fmt.Printf("  proxy peak RSS:   %d MiB (goal ≤ %d MiB at %d events/s)\n", peak>>20, rssGoal>>20, o.rssRate)
	fmt.Printf("  Go runtime:       %s\n", goMem)
	return nil
}

// goMemory is the proxy's Go runtime memory at the end of a run: what of
// its RSS the Go heap explains.
type goMemory struct{ sys, heapInuse, heapLive, nextGC int64 }

func readGoMemory(base string) goMemory {
	var m goMemory
	m.sys, _ = metricValue(base, "go_memstats_sys_bytes")
	m.heapInuse, _ = metricValue(base, "go_memstats_heap_inuse_bytes")
	m.heapLive, _ = metricValue(base, "go_memstats_alloc_bytes")
	m.nextGC, _ = metricValue(base, "go_memstats_next_gc_bytes")
	return m
}

func (m goMemory) String() string {
	return fmt.Sprintf("obtained from the OS %d MiB, heap in use %d MiB, allocated %d MiB, next GC at %d MiB",
		m.sys>>20, m.heapInuse>>20, m.heapLive>>20, m.nextGC>>20)
}
