package faulttest

import (
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// graphSeqKey is a key of the identity graph's slot under the default
// prefix (docs/redis-cluster.md § 2): its master serves every resolve.
const graphSeqKey = "hs:{g}:seq"

// TestRedisClusterMasterKilledUnderLoad: the proxy runs on a Redis Cluster
// of three masters; under native load with an idempotency key per event, the
// master of the identity graph's slot is SIGKILLed and its replica takes
// over. Every answer is 202 or a retryable 503 with Retry-After, and every
// acknowledged event is stored exactly once.
func TestRedisClusterMasterKilledUnderLoad(t *testing.T) {
	cluster := testenv.RedisCluster(t)
	s := newStack(t, "HOGSEND_REDIS_URL="+cluster.URL())
	failoverUnderLoad(t, s, "cluster-kill", func() {
		dead := cluster.KillMasterOf(graphSeqKey)
		cluster.WaitFailover(dead, 60*time.Second)
	})
}

// TestRedisSentinelFailoverUnderLoad: as above through Sentinel, whose
// master is SIGKILLed and whose replica is promoted.
func TestRedisSentinelFailoverUnderLoad(t *testing.T) {
	sentinel := testenv.RedisSentinel(t)
	s := newStack(t, "HOGSEND_REDIS_URL="+sentinel.URL())
	failoverUnderLoad(t, s, "sentinel-kill", func() { sentinel.FailOver(true) })
}

// failoverUnderLoad runs idempotent native load on s, calls failover once
// the proxy has accepted events, keeps the load on until as many more are
// accepted after it, and checks the answers and the stored rows.
func failoverUnderLoad(t *testing.T, s *stack, event string, failover func()) {
	t.Helper()
	c := openCH(t, s.ch)
	s.start()
	l := newLoad(s.base, s.key, event, 4)
	l.idempotent = true
	l.run()
	waitAccepted(t, s.base, 200)
	before, err := metric(s.base, `hogsend_events_accepted_total{api="native"}`)
	if err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	failover()
	t.Logf("%s: failed over in %s", event, time.Since(killedAt).Round(time.Millisecond))
	waitAccepted(t, s.base, before+200)
	outcomes := l.halt()
	unavailable := 0
	var first, last time.Time
	for _, o := range outcomes {
		switch {
		case o.acked():
		case o.Status == 503 && o.RetryAfter != "":
			unavailable++
			if first.IsZero() || o.Start.Before(first) {
				first = o.Start
			}
			if o.End.After(last) {
				last = o.End
			}
		default:
			t.Errorf("w=%d seq=%d answered %d (Retry-After %q, err %v): %s", o.W, o.Seq, o.Status, o.RetryAfter, o.Err, o.Body)
		}
	}
	t.Logf("%s: %s; %d retryable 503s over %s", event, summary(outcomes), unavailable, last.Sub(first).Round(time.Millisecond))
	waitDrained(t, s.base, c, event, 60*time.Second)
	checkExactlyOnce(t, c, event, outcomes)
}
