package main

import (
	"fmt"

	"github.com/hogsend/hogsend-proxy/internal/fakeengine"
)

// runHandOffOutage stops the fake engine for o.outage under a steady native
// load and checks every acknowledged event reached it once after the
// restart.
func runHandOffOutage(o deliveryOptions, t *deliveryTarget) error {
	return runOutage(o, t, outageLoad{
		what: fmt.Sprintf("%d POST /v1/events a second", o.outageRate), api: "native",
		run: func(st *stack, key string, stop <-chan struct{}) *loadResult {
			load := &pacedEvents{addr: st.addr, key: key, rate: o.outageRate, contacts: o.contacts, conns: 16}
			return load.run(stop)
		},
		verify: func(fake deliveryFake, _ *loadResult, accepted int64) error {
			eng := fake.(*fakeengine.Server)
			stored, distinct := storedOnce(eng)
			fmt.Printf("  engine:           %d events stored, %d distinct; proxy accepted %d; POST /v1/events received %d\n",
				stored, distinct, accepted, eng.ReceivedOn("POST /v1/events"))
			if stored != accepted || distinct != stored {
				return fmt.Errorf("engine stored %d events (%d distinct), proxy accepted %d", stored, distinct, accepted)
			}
			return nil
		}})
}

// storedOnce counts the outage load's events at the fake and how many
// distinct seqs they carry: an event stored twice shows as fewer.
func storedOnce(eng *fakeengine.Server) (stored, distinct int64) {
	seen := map[float64]bool{}
	for _, ev := range eng.Events() {
		if ev.Name != outageEventName {
			continue
		}
		stored++
		seq, _ := ev.EventProperties["seq"].(float64)
		if !seen[seq] {
			seen[seq] = true
			distinct++
		}
	}
	return stored, distinct
}
