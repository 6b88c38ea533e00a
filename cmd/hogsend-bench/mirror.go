package main

import "fmt"

// The mirror scenario (docs/posthog-upstream.md § 1): /batch/ ingest with
// the mirror to a PostHog project on and off, and a PostHog outage's
// drain.

// benchToken is the project token of the bench's /batch/ bodies.
const benchToken = "phc_bench"

// mirrorTarget is a lean stand-in for a PostHog project the proxy mirrors
// captures to; it keeps only the uuids it took, to count each once.
func mirrorTarget() *deliveryTarget {
	return &deliveryTarget{name: "mirror", fakeName: "fake PostHog", unit: "event",
		delivered: "hogsend_posthog_mirror_delivered_total", deadLettered: "hogsend_posthog_mirror_dead_lettered_total",
		breaker: "hogsend_posthog_mirror_breaker_open", backlog: `hogsend_spool_backlog_bytes{consumer="posthog_mirror"}`,
		start: func() (deliveryFake, []string, error) {
			ph, err := newLeanPostHog(benchToken)
			if err != nil {
				return nil, nil, err
			}
			return ph, []string{"HOGSEND_POSTHOG_UPSTREAM_URL=" + ph.URL(), "HOGSEND_POSTHOG_ASSETS_URL=" + ph.URL(),
				"HOGSEND_POSTHOG_TOKENS=" + benchToken}, nil
		}}
}

// runMirror compares /batch/ ingest (browser flushes) with the mirror on
// and off, then measures a PostHog outage's drain.
func runMirror(o deliveryOptions) error {
	o.useGenerator()
	t := mirrorTarget()
	kind := batchKind(o, browserFlush.String(), func(n, perBody, contacts int) [][]byte {
		return buildBatchBodies(n, perBody, contacts, browserFlush)
	})
	if err := compareDelivery(o, t, kind); err != nil {
		return fmt.Errorf("mirror, %s: %w", kind.name, err)
	}
	return runMirrorOutage(o, t)
}

// runMirrorOutage stops the fake PostHog for o.outage under a steady
// /batch/ load and checks every acknowledged event reached it once, by
// uuid, after the restart.
func runMirrorOutage(o deliveryOptions, t *deliveryTarget) error {
	var load *pacedCapture
	return runOutage(o, t, outageLoad{
		what: fmt.Sprintf("%d events a second in POST /batch/ of %d", o.outageRate, capturePerBody), api: "posthog",
		run: func(st *stack, _ string, stop <-chan struct{}) *loadResult {
			load = &pacedCapture{addr: st.addr, rate: o.outageRate, contacts: o.contacts, conns: 16}
			return load.run(stop)
		},
		verify: func(fake deliveryFake, res *loadResult, accepted int64) error {
			return load.verify(fake.(*leanPostHog), res, accepted)
		}})
}

// verify checks the fake took each event the proxy accepted once, and
// holds the uuid of every event the load sent but those of requests that
// failed.
func (p *pacedCapture) verify(ph *leanPostHog, res *loadResult, accepted int64) error {
	sent := p.sentUUIDs()
	missing := 0
	for _, id := range sent {
		if !ph.Seen(id) {
			missing++
		}
	}
	fmt.Printf("  PostHog:          %d distinct uuids, %d sent again; proxy accepted %d; of the %d uuids sent, %d missing (%d requests failed)\n",
		ph.Count(), ph.Duplicates(), accepted, len(sent), missing, res.errors)
	switch {
	case int64(ph.Count()) != accepted:
		return fmt.Errorf("fake PostHog took %d distinct events, proxy accepted %d", ph.Count(), accepted)
	case ph.Duplicates() != 0:
		return fmt.Errorf("fake PostHog was sent %d events twice", ph.Duplicates())
	case int64(missing) > res.errors*capturePerBody:
		return fmt.Errorf("%d sent events never reached the fake PostHog, more than the %d requests that failed carried", missing, res.errors)
	}
	return nil
}
