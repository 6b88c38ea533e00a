package main

import (
	"fmt"
	"sync"
	"time"
)

// knowFleet sends every contact's first event through the first proxy,
// then the same again through each other proxy at once: behind a
// round-robin balancer, in steady state, every proxy has resolved every
// active contact and keeps its copy (HOGSEND_IDENTITY_CACHE_BYTES), so the
// measured load is of people every proxy knows.
func knowFleet(fleet []*proxyProc, key string, conns, contacts int) error {
	start := time.Now()
	if err := introduceVia(fleet[:1], key, conns, contacts); err != nil {
		return err
	}
	if err := introduceVia(fleet[1:], key, conns, contacts); err != nil {
		return err
	}
	fmt.Printf("known people: every contact's first event sent through each proxy (%d contacts, %.1fs)\n", contacts, time.Since(start).Seconds())
	return nil
}

// introduceVia introduces every contact to each proxy of fleet at once,
// conns split between them.
func introduceVia(fleet []*proxyProc, key string, conns, contacts int) error {
	errs := make([]error, len(fleet))
	var wg sync.WaitGroup
	for i, p := range fleet {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &eventLoad{addr: p.addr, key: key, conns: max(1, conns/len(fleet)), contacts: contacts}
			_, errs[i] = l.introduce()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
