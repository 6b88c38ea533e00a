package main

import (
	"fmt"
	"time"
)

// The hand-off scenario (docs/upstream.md § 3): ingest with the hand-off to
// a Hogsend engine on and off under native and /batch/ traffic, and an
// engine outage's drain.

// handOffTarget is a lean stand-in for a Hogsend engine the proxy hands
// events off to.
func handOffTarget() *deliveryTarget {
	return &deliveryTarget{name: "hand-off", fakeName: "fake engine", unit: "record",
		delivered: "hogsend_handoff_delivered_total", deadLettered: "hogsend_handoff_dead_lettered_total", breaker: "hogsend_handoff_breaker_open",
		backlog: `hogsend_spool_backlog_bytes{consumer="hogsend_engine"}`, drainGoal: 10000,
		start: func() (deliveryFake, []string, error) {
			const key = "hsk_bench_handoff"
			eng, err := newLeanEngine(key)
			if err != nil {
				return nil, nil, err
			}
			return eng, []string{"HOGSEND_UPSTREAM_URL=" + eng.URL(), "HOGSEND_UPSTREAM_API_KEY=" + key}, nil
		}}
}

// runHandOff compares ingest with the hand-off on and off under native and
// /batch/ traffic, then measures an engine outage's drain.
func runHandOff(o deliveryOptions) error {
	o.useGenerator()
	t := handOffTarget()
	kinds, err := handOffKinds(o)
	if err != nil {
		return err
	}
	for _, kind := range kinds {
		if err := compareDelivery(o, t, kind); err != nil {
			return fmt.Errorf("hand-off, %s: %w", kind.name, err)
		}
	}
	if o.outage <= 0 {
		return nil
	}
	return runHandOffOutage(o, t)
}

// handOffKinds is the traffic -handoff-traffic names.
func handOffKinds(o deliveryOptions) ([]trafficKind, error) {
	native, batch := nativeKind(o), batchKind(o, identifiedShape, buildIdentifiedBodies)
	switch o.traffic {
	case "native":
		return []trafficKind{native}, nil
	case "batch":
		return []trafficKind{batch}, nil
	case "both", "":
		return []trafficKind{native, batch}, nil
	}
	return nil, fmt.Errorf("-handoff-traffic %q: want native, batch or both", o.traffic)
}

// nativeKind is POST /v1/events, one event with an email per request.
func nativeKind(o deliveryOptions) trafficKind {
	drive := func(env *benchEnv, addr, key string) loadDriver {
		l := &eventLoad{addr: addr, key: key, conns: o.conns, contacts: o.contacts}
		dir := env.TempDir()
		return func(d time.Duration, started func(time.Duration)) (*loadResult, error) {
			started(0)
			if o.generator == "wrk" {
				return l.runWrk(d, dir)
			}
			return l.run(d)
		}
	}
	return trafficKind{name: "POST /v1/events", api: "native", newDriver: drive,
		bare: func(env *benchEnv, addr string, d time.Duration) (*loadResult, error) {
			return drive(env, addr, "bare")(d, func(time.Duration) {})
		}}
}
