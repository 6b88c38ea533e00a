package abuse

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
)

// querier is ClickHouse in either mode.
type querier interface {
	Query(ctx context.Context, sql string) ([][]string, error)
}

// Queries of how often each legitimate event id is stored, after FINAL.
const (
	nativeStored  = `SELECT toString(visitParamExtractInt(properties, 'seq')) AS seq, count() FROM user_events FINAL WHERE event = 'legit.native' GROUP BY seq`
	captureStored = `SELECT toString(id) AS uuid, count() FROM user_events FINAL WHERE event = 'legit.capture' GROUP BY uuid`
)

// storedEvents waits for the writer to drain and returns, for native and
// capture, how many rows each legitimate event id has. In embedded mode the
// proxy is stopped first: chDB allows one session per process.
func (p *proxyProc) storedEvents(t *testing.T) (native, capture map[string]int) {
	t.Helper()
	if !p.running() {
		t.Log("restarting the proxy to drain its spool")
		p.start()
	}
	p.waitBacklog(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var q querier
	if p.ch != nil {
		srv, err := clickhouse.OpenServer(ctx, p.ch.ClickHouseURL("hogsend"))
		if err != nil {
			t.Fatalf("open clickhouse: %v", err)
		}
		defer srv.Close()
		q = srv
	} else {
		p.stop()
		e, err := clickhouse.OpenEmbedded(filepath.Join(p.dataDir, "clickhouse")) // as the proxy opens it
		if err != nil {
			t.Fatalf("open embedded clickhouse: %v", err)
		}
		defer e.Close()
		q = e
	}
	return countIDs(t, ctx, q, nativeStored), countIDs(t, ctx, q, captureStored)
}

// waitBacklog waits until the spool's ClickHouse backlog is empty.
func (p *proxyProc) waitBacklog(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if n, err := p.metric(`hogsend_spool_backlog_bytes{consumer="clickhouse"}`); err == nil && n == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("spool not drained into ClickHouse within 90s")
}

func countIDs(t *testing.T, ctx context.Context, q querier, sql string) map[string]int {
	t.Helper()
	rows, err := q.Query(ctx, sql)
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		var n int
		fmt.Sscan(r[1], &n)
		out[r[0]] = n
	}
	return out
}

// checkExactlyOnce: every acknowledged id is stored once; an id stored but
// not acknowledged was in flight (no answer), never refused.
func checkExactlyOnce(t *testing.T, what string, all []sent, okStatus int, stored map[string]int) {
	t.Helper()
	acked, missing, twice, refusedStored := 0, 0, 0, 0
	seen := map[string]bool{}
	for _, s := range all {
		for _, id := range s.ids {
			seen[id] = true
			n := stored[id]
			switch {
			case s.acked(okStatus) && n == 0:
				missing++
			case n > 1:
				twice++
			case n == 1 && !s.acked(okStatus) && s.status != 0:
				refusedStored++
			}
			if s.acked(okStatus) {
				acked++
			}
		}
	}
	unknown := 0
	for id := range stored {
		if !seen[id] {
			unknown++
		}
	}
	t.Logf("%s: %d acknowledged events, %d stored ids", what, acked, len(stored))
	if acked == 0 {
		t.Errorf("%s: the legitimate client got no acknowledgement at all", what)
	}
	if missing+twice+refusedStored+unknown > 0 {
		t.Errorf("%s: acknowledged but missing %d, stored more than once %d, refused but stored %d, stored but never sent %d",
			what, missing, twice, refusedStored, unknown)
	}
}
