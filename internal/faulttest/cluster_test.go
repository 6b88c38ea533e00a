package faulttest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
)

// TestClusterReplicaThenShardKilledUnderLoad: the proxy writes to a
// 2 shards × 2 replicas ClickHouse cluster under load; one replica is
// SIGKILLed (and later restarted), then both replicas of the other shard.
// Clients keep getting 202s (the spool holds what cannot be inserted), and
// once the servers are back every acknowledged event is stored exactly
// once, read through the Distributed table, and each shard's replicas hold
// the same rows (docs/clickhouse-cluster.md § 5).
func TestClusterReplicaThenShardKilledUnderLoad(t *testing.T) {
	const event = "cluster.kill"
	c := testenv.StartClickHouseCluster(t, 2, 2)
	s := newStackOn(t, c.URL("hogsend"), "HOGSEND_CLICKHOUSE_CLUSTER="+testenv.ClusterName)
	proxy := s.start()
	r := openCHURL(t, c.URL("hogsend"))
	const workers = 16
	load := newLoad(s.base, s.key, event, workers).run()
	waitAccepted(t, s.base, 300)

	// One replica down: the first host of the URL, the first replica of
	// shard 1, so both the proxy's connections and the shard's inserts fail over.
	replica := c.Shards[0][0]
	replica.Kill()
	t.Logf("%s killed", replica.Name)
	before := storedCount(t, r, event)
	waitStoredAbove(t, r, event, before+500)
	c.Restart(t, replica)
	t.Logf("%s back", replica.Name)

	// A whole shard down: inserts fail until it is back, the spool holds.
	accepted := acceptedNow(t, s.base)
	for _, p := range c.Shards[1] {
		p.Kill()
	}
	t.Logf("shard 2 killed")
	// The writer inserts once a batch delay; 1,000 events can be accepted
	// before its first insert after the kill, so wait for the insert itself.
	if !waitLogged(t, proxy, "clickhouse writer: insert failed", 60*time.Second) {
		t.Fatal("no insert failed within 60s of a whole shard going down: the Distributed insert must wait for every shard")
	}
	waitAccepted(t, s.base, accepted+1000)
	for _, p := range c.Shards[1] {
		c.Restart(t, p)
	}
	t.Logf("shard 2 back")
	outcomes := load.halt()
	for _, o := range outcomes {
		if o.Status != 0 && !o.acked() {
			t.Fatalf("event w=%d seq=%d answered %d %q: a ClickHouse outage must not reach clients", o.W, o.Seq, o.Status, o.Body)
		}
	}
	waitDrained(t, s.base, r, event, 90*time.Second)
	// A replica that was down reads behind its peer until it has fetched
	// what the peer took meanwhile: wait for that, then read all through
	// the Distributed table.
	total := replicasAgree(t, c, event)
	waitStoredAbove(t, r, event, total-1)
	stored, extra := checkExactlyOnce(t, r, event, outcomes)
	if t.Failed() {
		logMissing(t, outcomes, stored)
	}
	raw := storedCount(t, r, event)
	if raw != total || raw != int64(len(stored)) {
		t.Errorf("rows before FINAL: %d through the Distributed table, %d on the shards, want %d (each event once: re-sent blocks deduplicated)", raw, total, len(stored))
	}
	t.Logf("sent %d (%s); stored %d (in-flight extra %d); rows before FINAL %d", len(outcomes), summary(outcomes), len(stored), extra, raw)
	for _, p := range append(c.Nodes(), c.ZooKeeper) {
		_, peak := testenv.ProcMemory(p.PID())
		t.Logf("%s: peak RSS %d MiB", p.Name, peak>>20)
	}
}

// storedCount is how many rows of event the Distributed table reads.
func storedCount(t *testing.T, r *chReader, event string) int64 {
	t.Helper()
	return r.count("SELECT count() FROM hogsend.user_events WHERE event = '" + event + "'")
}

// waitStoredAbove waits until more than n rows of event are stored: the
// writer inserts while a replica is down.
func waitStoredAbove(t *testing.T, r *chReader, event string, n int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows, err := r.query("SELECT count() FROM hogsend.user_events WHERE event = '" + event + "'")
		if err == nil && len(rows) == 1 {
			if got, _ := strconv.ParseInt(rows[0][0], 10, 64); got > n {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no more than %d rows of %s stored within 60s (last error %v)", n, event, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func acceptedNow(t *testing.T, base string) float64 {
	t.Helper()
	n, err := metric(base, `hogsend_events_accepted_total{api="native"}`)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// replicasAgree waits until both replicas of each shard hold the same
// number of rows of event, and returns the shards' total.
func replicasAgree(t *testing.T, c *testenv.ClickHouseCluster, event string) int64 {
	t.Helper()
	var sum int64
	for i, shard := range c.Shards {
		counts := replicaCounts(t, shard, event)
		deadline := time.Now().Add(60 * time.Second)
		for counts[0] != counts[1] {
			if time.Now().After(deadline) {
				t.Fatalf("shard %d replicas hold %v rows of %s after 60s", i+1, counts, event)
			}
			time.Sleep(100 * time.Millisecond)
			counts = replicaCounts(t, shard, event)
		}
		sum += counts[0]
	}
	return sum
}

func replicaCounts(t *testing.T, shard []*testenv.Process, event string) []int64 {
	t.Helper()
	var out []int64
	for _, p := range shard {
		srv, err := clickhouse.OpenServer(context.Background(), p.ClickHouseURL("hogsend"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, localCount(t, srv, event))
		srv.Close()
	}
	return out
}

func localCount(t *testing.T, srv *clickhouse.Server, event string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	rows, err := srv.Query(ctx, fmt.Sprintf("SELECT count() FROM hogsend.user_events_local WHERE event = '%s'", event))
	if err != nil || len(rows) != 1 {
		t.Fatalf("count on a replica: %v %v", rows, err)
	}
	n, _ := strconv.ParseInt(rows[0][0], 10, 64)
	return n
}

// logMissing logs, per worker, the acknowledged events not stored: their
// sequence range and when they were answered.
func logMissing(t *testing.T, outcomes []outcome, stored map[pair]int) {
	t.Helper()
	type span struct {
		n, lo, hi   int
		first, last time.Time
	}
	spans := map[int]*span{}
	for _, o := range outcomes {
		if !o.acked() || stored[pair{o.W, o.Seq}] > 0 {
			continue
		}
		sp := spans[o.W]
		if sp == nil {
			sp = &span{lo: o.Seq, first: o.End}
			spans[o.W] = sp
		}
		sp.n, sp.hi, sp.last = sp.n+1, o.Seq, o.End
	}
	for w, sp := range spans {
		t.Logf("worker %d: %d missing, seq %d..%d, answered %s..%s", w, sp.n, sp.lo, sp.hi, sp.first.Format("15:04:05.000"), sp.last.Format("15:04:05.000"))
	}
}
