package main

import (
	"fmt"
	"os/exec"
	"time"
)

// perfOptions are the flags of the edge scenarios (events, batch,
// batch-server; docs/operations.md § Edge benchmarks).
type perfOptions struct {
	duration, warmup            time.Duration
	conns, batchConns, contacts int
	cpuProfile, generator       string
	knownPeople                 bool
	batchConversions            bool
	runs                        int // fresh stacks per scenario and mode
	rssRate                     int // events/s of the RSS run; 0 skips it
	modes                       []stackMode
	built                       string // the proxy binary every run starts
}

// resolveGenerator is the generator asked for, the Go one when wrk is
// missing.
func resolveGenerator(generator string) string {
	if generator == "wrk" {
		if _, err := exec.LookPath("wrk"); err != nil {
			fmt.Println("wrk not found; using the Go generator")
			return "go"
		}
	}
	return generator
}
