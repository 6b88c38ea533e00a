package main

import "fmt"

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
			eng := fake.(*leanEngine)
			stored, distinct := eng.storedOnce()
			fmt.Printf("  engine:           %d events stored, %d distinct; proxy accepted %d; POST /v1/events received %d\n",
				stored, distinct, accepted, eng.events.Load())
			if stored != accepted || distinct != stored {
				return fmt.Errorf("engine stored %d events (%d distinct), proxy accepted %d", stored, distinct, accepted)
			}
			return nil
		}})
}
