package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// batchDriver drives l for d with generator from the body next counts on,
// calling started once the first request has been answered (wrk first
// loads the bodies), so that what is measured is the load itself. A
// wrapping load (the bare handler's) starts from the first body each time.
func batchDriver(env *benchEnv, l *batchLoad, next *atomic.Int64, generator string) func(d time.Duration, started func(generatorSetup time.Duration) error) (*loadResult, error) {
	return func(d time.Duration, started func(time.Duration) error) (*loadResult, error) {
		if generator != "wrk" {
			if err := started(0); err != nil {
				return nil, err
			}
			return l.run(d, next)
		}
		from := int(next.Load())
		if l.wrap {
			from = 0
		}
		res, sent, err := l.runWrk(d, env.TempDir(), from, started)
		next.Add(int64(sent))
		return res, err
	}
}

// batchConversionsEnv is the proxy environment of -batch-conversions:
// conversion forwarding on, so that every event passes the deriver
// (clicks recorded, rules checked); none converts.
func batchConversionsEnv(env *benchEnv, on bool) ([]string, error) {
	if !on {
		return nil, nil
	}
	cfg := filepath.Join(env.TempDir(), "hogsend.yaml")
	yaml := "conversions:\n  destinations:\n    tiktok: {pixel_code: \"CABCD1234567890\", access_token: \"t\", base_url: \"http://127.0.0.1:9\"}\n" +
		"  rules:\n    - id: signup\n      trigger: {event: signed_up}\n      destinations: {tiktok: CompleteRegistration}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		return nil, fmt.Errorf("conversions config: %w", err)
	}
	fmt.Println("conversion forwarding enabled (one rule, matching no event of the load)")
	return []string{"HOGSEND_CONFIG=" + cfg}, nil
}

// batchStats are the counters a batch run reads around its measured
// phase: the spool's appends and fsyncs, and in server mode Redis's and
// ClickHouse's own.
type batchStats struct {
	appends0, fsyncs0 int64
	redis             *redisStats
	ch                *chStats
}

func startBatchStats(st *stack) (*batchStats, error) {
	s := &batchStats{}
	s.appends0, _ = metricValue(st.base, "hogsend_spool_appends_total")
	s.fsyncs0, _ = metricValue(st.base, "hogsend_spool_fsyncs_total")
	if st.embedded() {
		return s, nil
	}
	var err error
	if s.redis, err = newRedisStats(st.redis.RedisURL()); err != nil {
		return nil, err
	}
	if s.ch, err = newCHStats(st.ch.ClickHouseURL("hogsend")); err != nil {
		return nil, err
	}
	return s, nil
}

// report prints the spool's group commits over wall and, in server mode,
// Redis's and ClickHouse's work per event.
func (s *batchStats) report(st *stack, events int64, wall time.Duration) string {
	out := ""
	if s.redis != nil {
		out = s.redis.report(events) + s.ch.report(events)
	}
	appends, _ := metricValue(st.base, "hogsend_spool_appends_total")
	fsyncs, _ := metricValue(st.base, "hogsend_spool_fsyncs_total")
	appends, fsyncs = appends-s.appends0, fsyncs-s.fsyncs0
	return fmt.Sprintf("  spool:            %.0f appends/s, %.0f fsyncs/s (%.1f requests per group commit)\n",
		float64(appends)/wall.Seconds(), float64(fsyncs)/wall.Seconds(), float64(appends)/max(1, float64(fsyncs))) + out
}
