package clickhouse

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// TestClusterBackend runs the cluster tests on one 2 shards × 2 replicas
// cluster, each in its own database: four servers take a while to start
// on a small machine.
func TestClusterBackend(t *testing.T) {
	c := testenv.StartClickHouseCluster(t, 2, 2)
	for name, test := range map[string]func(*testing.T, *testenv.ClickHouseCluster){
		"MigrateCreatesReplicatedShardedTables": testClusterMigrate,
		"EventsShardedByContact":                testClusterEventsShardedByContact,
		"ContactFinalAcrossVersions":            testClusterContactFinal,
		"ConversionTables": func(t *testing.T, c *testenv.ClickHouseCluster) {
			testConversionTables(t, newClusterServer(t, c, "conv"))
		},
		"LoadSnapshot": func(t *testing.T, c *testenv.ClickHouseCluster) {
			testServerLoadSnapshot(t, newClusterServer(t, c, "snap"))
		},
		"DeadLetters": func(t *testing.T, c *testenv.ClickHouseCluster) {
			s := newClusterServer(t, c, "dead")
			testEngineDeadLetters(t, s)
			testPostHogDeadLetters(t, s)
			testWriterDeadLettersPoison(t, s)
		},
	} {
		t.Run(name, func(t *testing.T) { test(t, c) })
	}
}

// newClusterServer opens and migrates database db on the test cluster.
func newClusterServer(t *testing.T, c *testenv.ClickHouseCluster, db string) *Server {
	t.Helper()
	s, err := OpenCluster(testContext(t), c.URL(db), testenv.ClusterName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(testContext(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

// nodeServer is a plain connection to one server of the cluster.
func nodeServer(t *testing.T, p *testenv.Process, db string) *Server {
	t.Helper()
	s, err := OpenServer(testContext(t), p.ClickHouseURL(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testClusterMigrate(t *testing.T, c *testenv.ClickHouseCluster) {
	s := newClusterServer(t, c, "mig")
	if got := queryRow(t, s, "SELECT value FROM system.settings WHERE name = 'insert_distributed_sync'"); got[0] != "1" {
		t.Fatalf("insert_distributed_sync = %s in the proxy's session, want 1", got[0])
	}
	if err := s.Migrate(testContext(t)); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	for _, p := range c.Nodes() {
		n := nodeServer(t, p, "mig")
		if got := queryInt(t, n, "SELECT count() FROM schema_migrations"); got != 6 {
			t.Fatalf("%s: schema_migrations rows = %d, want 6 (every server holds the record)", p.Name, got)
		}
		engines := map[string]string{}
		rows, err := n.Query(testContext(t), "SELECT name, engine, engine_full FROM system.tables WHERE database = 'mig'")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			engines[r[0]] = r[1]
			if r[1] == "Distributed" && !strings.Contains(r[2], testenv.ClusterName) {
				t.Fatalf("%s: %s is %s", p.Name, r[0], r[2])
			}
		}
		for _, table := range []string{tableEvents, tableContacts, tableAliases, tableLists, tableClicks, tableDispatches} {
			if engines[table] != "Distributed" || !strings.HasPrefix(engines[table+localSuffix], "Replicated") {
				t.Fatalf("%s: %s is %q over %q, want Distributed over Replicated*", p.Name, table, engines[table], engines[table+localSuffix])
			}
		}
		for _, table := range []string{tableAPIKeys, tableDeadLetters, tableConvDead, tableEngineDead, tablePostHogDead, tableMigrations} {
			if !strings.HasPrefix(engines[table], "Replicated") {
				t.Fatalf("%s: %s is %q, want Replicated* on every server", p.Name, table, engines[table])
			}
		}
		if len(engines) != 6+2*6 {
			t.Fatalf("%s: %d tables %v, want 18", p.Name, len(engines), engines)
		}
	}
}

// TestClusterEventsShardedByContact: events spread over both shards, a
// contact's on one, each replica holds its shard's, and a re-sent insert
// block is stored once.
func testClusterEventsShardedByContact(t *testing.T, c *testenv.ClickHouseCluster) {
	s := newClusterServer(t, c, "ev")
	ctx := testContext(t)
	rows := testEvents(0, 700)
	for range 2 { // the second insert is the writer's retry of the same rows
		if err := s.InsertEvents(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, s, "SELECT count() FROM user_events"); n != 700 {
		t.Fatalf("user_events rows = %d, want 700 (the repeated block deduplicated)", n)
	}
	if n := queryInt(t, s, "SELECT uniqExact(id) FROM user_events FINAL"); n != 700 {
		t.Fatalf("distinct ids = %d, want 700", n)
	}
	var perShard []int64
	for _, shard := range c.Shards {
		first := nodeServer(t, shard[0], "ev")
		n := queryInt(t, first, "SELECT count() FROM user_events_local")
		if contacts := queryInt(t, first, "SELECT uniqExact(contact_id) FROM user_events_local"); n > 0 && contacts == 0 {
			t.Fatal("rows without contacts")
		}
		waitReplicated(t, shard, "ev", "user_events_local", n)
		perShard = append(perShard, n)
	}
	if perShard[0]+perShard[1] != 700 || perShard[0] == 0 || perShard[1] == 0 {
		t.Fatalf("rows per shard = %v, want 700 over both", perShard)
	}
	// A contact's events are on one shard only.
	seen := map[string]int{}
	for i, shard := range c.Shards {
		rows, err := nodeServer(t, shard[0], "ev").Query(ctx, "SELECT DISTINCT toString(contact_id) FROM user_events_local")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if prev, ok := seen[r[0]]; ok {
				t.Fatalf("contact %s on shards %d and %d", r[0], prev, i)
			}
			seen[r[0]] = i
		}
	}
	if len(seen) != 7 {
		t.Fatalf("%d contacts, want 7", len(seen))
	}
}

// waitReplicated waits until every replica of shard holds want rows of table.
func waitReplicated(t *testing.T, shard []*testenv.Process, db, table string, want int64) {
	t.Helper()
	for _, p := range shard {
		n := nodeServer(t, p, db)
		got := int64(-1)
		waitFor(t, time.Minute, fmt.Sprintf("%s.%s on %s has %d rows", db, table, p.Name, want), func() bool {
			got = queryInt(t, n, "SELECT count() FROM "+table)
			return got == want
		})
	}
}

// TestClusterContactFinalAcrossVersions: a contact updated many times reads
// back as its last version, through the Distributed table, as do its aliases.
func testClusterContactFinal(t *testing.T, c *testenv.ClickHouseCluster) {
	s := newClusterServer(t, c, "fin")
	ctx := testContext(t)
	var ids []uuid.UUID
	for i := range 20 {
		ids = append(ids, uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("c", i))))
	}
	for v := uint64(1); v <= 5; v++ { // one insert per version, as the writer makes them
		var cs []canonical.Contact
		var as []canonical.Alias
		for i, id := range ids {
			cs = append(cs, canonical.Contact{ID: id, Email: fmt.Sprintf("v%d-%d@example.com", v, i), Version: v, CreatedAt: base, UpdatedAt: base + int64(v)})
			// The alias moves between contacts: its versions name different ones.
			as = append(as, canonical.Alias{Kind: canonical.KindEmail, Value: fmt.Sprintf("a%d", i), ContactID: ids[(i+int(v))%len(ids)], Version: v, At: base})
		}
		if err := s.InsertContacts(ctx, cs); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertAliases(ctx, as); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := s.LoadSnapshot(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Contacts) != 20 || len(snap.Aliases) != 20 {
		t.Fatalf("snapshot: %d contacts, %d aliases, want 20 each (one row per version collapsed)", len(snap.Contacts), len(snap.Aliases))
	}
	sort.Slice(snap.Aliases, func(i, j int) bool { return snap.Aliases[i].Value < snap.Aliases[j].Value })
	for _, c := range snap.Contacts {
		if c.Version != 5 || !strings.HasPrefix(c.Email, "v5-") {
			t.Fatalf("contact %s: version %d email %s, want the 5th", c.ID, c.Version, c.Email)
		}
	}
	for _, a := range snap.Aliases {
		var i int
		fmt.Sscanf(a.Value, "a%d", &i)
		if a.Version != 5 || a.ContactID != ids[(i+5)%len(ids)] {
			t.Fatalf("alias %s: version %d contact %s, want the 5th", a.Value, a.Version, a.ContactID)
		}
	}
	facts, err := s.LoadContactFacts(ctx, ids[:3])
	if err != nil || len(facts) != 3 {
		t.Fatalf("contact facts: %v, %v", facts, err)
	}
}

// TestParseServerURLHosts: several hosts, tried in order, default ports,
// compression by whether any host is across a network.
func TestParseServerURLHosts(t *testing.T) {
	o, db, err := parseServerURL("clickhouse://u:pw@127.0.0.1:9001,localhost,[::1]:9003/events")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.Addr, " ") != "127.0.0.1:9001 localhost:9000 [::1]:9003" || db != "events" || o.Auth.Username != "u" || o.Auth.Password != "pw" {
		t.Fatalf("addrs %q db %s user %s", o.Addr, db, o.Auth.Username)
	}
	if o.Compression != nil || o.ConnOpenStrategy != ch.ConnOpenInOrder {
		t.Fatalf("compression %v strategy %v, want none on loopback and in order", o.Compression, o.ConnOpenStrategy)
	}
	o, _, err = parseServerURL("clickhouse://127.0.0.1,ch2.internal/events?secure=true")
	if err != nil || o.Compression == nil || o.TLS == nil || o.TLS.ServerName != "" {
		t.Fatalf("a remote host: compression %v tls %+v, %v", o.Compression, o.TLS, err)
	}
	if _, _, err := parseServerURL("clickhouse://h1,,h2/events"); err == nil || !strings.Contains(err.Error(), "missing host") {
		t.Fatalf("empty host: %v", err)
	}
}
