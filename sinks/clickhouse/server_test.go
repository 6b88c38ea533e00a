package clickhouse

import (
	ch "github.com/ClickHouse/clickhouse-go/v2"

	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func TestServerMigrateIsIdempotentAndVersionAware(t *testing.T) {
	s, _ := newTestServer(t) // migrated once
	ctx := testContext(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if n := queryInt(t, s, "SELECT count() FROM schema_migrations"); n != 6 {
		t.Fatalf("schema_migrations rows = %d, want 6 (second Migrate must be a no-op)", n)
	}
	if got := queryRow(t, s, "SELECT groupArray(name) FROM (SELECT name FROM schema_migrations ORDER BY version)"); !slices.Equal(got, []string{"['initial schema','list memberships','dead letters','conversions','engine dead letters','posthog dead letters']"}) {
		t.Fatalf("schema_migrations = %q", got)
	}

	f, err := s.features(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("server version %s, features %+v", f.Version.Text, f)
	timeType, lc, js, dedupSetting := "DateTime('UTC')", "String", "String", false
	if f.Version.atLeast(modernMajor, 1) {
		timeType, lc, dedupSetting = "DateTime64(3, 'UTC')", "LowCardinality(String)", true
	}
	if f.Version.Major == 18 && f.Version.Minor == 16 && (f.DateTime64 || f.LowCardinality || f.Codecs || f.InsertDedup || !f.Decimal) {
		t.Fatalf("18.16 features = %+v, want only Decimal", f)
	}
	types := map[string]string{}
	rows, err := s.Query(ctx, "SELECT table, name, type FROM system.columns WHERE database = 'hogsend'")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		types[r[0]+"."+r[1]] = r[2]
	}
	want := map[string]string{
		"user_events.id":                     "UUID",
		"user_events.event":                  lc,
		"user_events.user_id":                "String",
		"user_events.contact_id":             "UUID",
		"user_events.properties":             js,
		"user_events.value":                  "Nullable(Decimal(14, 2))",
		"user_events.currency":               lc,
		"user_events.groups":                 js,
		"user_events.occurred_at":            timeType,
		"user_events.received_at":            timeType,
		"contacts.deleted_at":                timeType,
		"contacts.is_deleted":                "UInt8",
		"contacts.version":                   "UInt64",
		"contact_aliases.alias_kind":         lc,
		"contact_aliases.reason":             lc,
		"contact_aliases.is_deleted":         "UInt8",
		"api_keys.scopes":                    "Array(String)",
		"api_keys.version":                   "UInt64",
		"list_memberships.list_id":           lc,
		"list_memberships.subscribed":        "UInt8",
		"dead_letters.failed_at":             timeType,
		"dead_letters.table":                 lc,
		"dead_letters.row":                   js,
		"dead_letters.record":                js,
		"dead_letters.reason":                "String",
		"dead_letters.spool_segment":         "UInt64",
		"dead_letters.spool_offset":          "Int64",
		"contact_clicks.clicked_at":          timeType,
		"contact_clicks.kind":                lc,
		"conversion_dispatches.at":           timeType,
		"conversion_dispatches.status":       lc,
		"conversion_dispatches.attempts":     "UInt32",
		"conversion_dispatches.http_status":  "UInt16",
		"conversion_dead_letters.conversion": js,
		"conversion_dead_letters.version":    "UInt64",
		"engine_dead_letters.kind":           "UInt8",
		"engine_dead_letters.status":         "UInt16",
		"engine_dead_letters.failed_at":      timeType,
		"engine_dead_letters.version":        "UInt64",
		"posthog_dead_letters.historical":    "UInt8",
		"posthog_dead_letters.status":        "UInt16",
		"posthog_dead_letters.version":       "UInt64",
		"schema_migrations.version":          "UInt32",
		"schema_migrations.applied_at":       "DateTime",
	}
	for col, typ := range want {
		if types[col] != typ {
			t.Errorf("%s type = %q, want %q", col, types[col], typ)
		}
	}
	wantColumns := len(eventColumns) + len(contactColumns) + len(aliasColumns) + len(apiKeyColumns) + len(listColumns) + len(deadLetterColumns) +
		len(clickColumns) + len(dispatchColumns) + len(convDeadColumns) + len(engineDeadColumns) + len(posthogDeadColumns) + 3
	if len(types) != wantColumns {
		t.Errorf("got %d columns, want %d", len(types), wantColumns)
	}
	engines, err := s.Query(ctx, "SELECT name, engine, create_table_query FROM system.tables WHERE database = 'hogsend' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	if len(engines) != 12 {
		t.Fatalf("tables = %q", engines)
	}
	for _, r := range engines {
		if r[0] == tableDispatches {
			// Every attempt's row is kept: history, not latest state.
			if r[1] != "MergeTree" {
				t.Errorf("%s engine = %s", r[0], r[1])
			}
			continue
		}
		if r[1] != "ReplacingMergeTree" {
			t.Errorf("%s engine = %s", r[0], r[1])
		}
		if got := strings.Contains(r[2], "non_replicated_deduplication_window"); got != (dedupSetting && r[0] != tableMigrations) {
			t.Errorf("%s: dedup window setting present = %v on %s", r[0], got, f.Version.Text)
		}
	}
}

func TestServerInsertEventsReadBack(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := testContext(t)
	f, _ := s.features(ctx)
	odd := canonical.Event{
		ID: uuid.MustParse("0190b2a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b"), Name: "sign up", UserID: "ext-1",
		Properties: []byte("{\"q\":\"it's a \\\"tab\\\"\\t and\\nline\",\"u\":\"ünï\"}"),
		HasValue:   true, Value: 19.999, Currency: "USD", Source: "posthog", IdempotencyKey: "k1",
		DistinctID: "d1", Lib: "web", IP: "::1", OccurredAt: base, ReceivedAt: base + 1500,
	}
	noValue := testEvent(1) // odd index: HasValue false
	noValue.ContactID = uuid.Nil
	noValue.Groups = nil
	if err := s.InsertEvents(ctx, []canonical.Event{odd, noValue}); err != nil {
		t.Fatal(err)
	}
	ms := f.millis
	got := queryRow(t, s, "SELECT toString(id), event, user_id, toString(contact_id), distinct_id, properties, toString(value), currency, groups, source, lib, ip, idempotency_key, "+
		ms("occurred_at")+", "+ms("received_at")+" FROM user_events FINAL WHERE idempotency_key = 'k1'")
	p := f.precisionMillis()
	want := []string{odd.ID.String(), "sign up", "ext-1", uuid.Nil.String(), "d1", string(odd.Properties), "20", "USD", "{}", "posthog", "web", "::1", "k1",
		itoa(truncateTo(base, p)), itoa(truncateTo(base+1500, p))}
	if got[6] == "20.00" { // 18.16 prints trailing zeros
		want[6] = "20.00"
	}
	if !slices.Equal(got, want) {
		t.Fatalf("event row\n got %q\nwant %q", got, want)
	}
	if v := queryRow(t, s, "SELECT toString(value), isNull(value), groups FROM user_events WHERE id = toUUID('"+noValue.ID.String()+"')"); v[1] != "1" || v[2] != "{}" {
		t.Fatalf("event without value: %q, want NULL value and {} groups", v)
	}
	// JSON stays queryable with the functions 18.16 has.
	if got := queryRow(t, s, "SELECT visitParamExtractString(properties, 'u') FROM user_events WHERE idempotency_key = 'k1'"); got[0] != "ünï" {
		t.Fatalf("visitParamExtractString = %q", got)
	}
}

func TestServerEventsReinsertedCountOnce(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := testContext(t)
	rows := testEvents(0, 500)
	for range 2 {
		if err := s.InsertEvents(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, s, "SELECT count() FROM user_events FINAL"); n != 500 {
		t.Fatalf("count FINAL = %d, want 500", n)
	}
	if n := queryInt(t, s, "SELECT uniqExact(id) FROM user_events"); n != 500 {
		t.Fatalf("distinct ids = %d, want 500", n)
	}
	if n := queryInt(t, s, "SELECT count() FROM user_events"); n != 500 && n != 1000 {
		t.Fatalf("raw count = %d, want 500 (insert dedup) or 1000", n)
	}
}

func TestServerContactsAliasesKeysLatestVersionWins(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := testContext(t)
	id := uuid.MustParse("11111111-2222-4333-8444-555555555555")
	v1 := canonical.Contact{ID: id, ExternalID: "u1", Email: "a@x.io", Properties: []byte(`{"plan":"free"}`), Source: "api",
		FirstSeenAt: base, LastSeenAt: base, CreatedAt: base, UpdatedAt: base, Version: 1}
	v2 := v1
	v2.Properties, v2.UpdatedAt, v2.LastSeenAt, v2.Version = []byte(`{"plan":"pro"}`), base+60_000, base+60_000, 2
	v3 := v2
	v3.DeletedAt, v3.UpdatedAt, v3.Version = base+120_000, base+120_000, 3
	// Versions arrive out of order in separate inserts: the highest wins.
	for _, c := range []canonical.Contact{v2, v3, v1} {
		if err := s.InsertContacts(ctx, []canonical.Contact{c}); err != nil {
			t.Fatal(err)
		}
	}
	got := queryRow(t, s, "SELECT properties, is_deleted, version FROM contacts FINAL")
	if !slices.Equal(got, []string{`{"plan":"pro"}`, "1", "3"}) {
		t.Fatalf("contact FINAL = %q", got)
	}
	got = queryRow(t, s, "SELECT argMax(properties, version), max(version) FROM contacts")
	if !slices.Equal(got, []string{`{"plan":"pro"}`, "3"}) {
		t.Fatalf("contact argMax = %q", got)
	}

	other := uuid.MustParse("99999999-2222-4333-8444-555555555555")
	aliases := []canonical.Alias{
		{Kind: canonical.KindEmail, Value: "a@x.io", ContactID: id, Reason: canonical.ReasonResolve, Version: 1, At: base},
		{Kind: canonical.KindEmail, Value: "a@x.io", ContactID: other, FromContactID: id, Reason: canonical.ReasonMerge, Version: 2, At: base + 1000},
		{Kind: canonical.KindAnonymous, Value: "anon-1", ContactID: id, Reason: canonical.ReasonResolve, Version: 1, At: base},
		{Kind: canonical.KindAnonymous, Value: "anon-1", ContactID: id, Reason: canonical.ReasonResolve, Deleted: true, Version: 5, At: base + 2000},
	}
	if err := s.InsertAliases(ctx, aliases); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Query(ctx, "SELECT alias_kind, alias_value, toString(contact_id), toString(from_contact_id), reason, is_deleted, version FROM contact_aliases FINAL ORDER BY alias_kind")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"anonymous", "anon-1", id.String(), uuid.Nil.String(), "resolve", "1", "5"},
		{"email", "a@x.io", other.String(), id.String(), "merge", "0", "2"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("aliases FINAL\n got %q\nwant %q", rows, want)
	}

	key := canonical.APIKey{Hash: "ab12", Prefix: "sk_live_", Name: "ci", Scopes: []string{"ingest", "read"}, CreatedAt: base, ExpiresAt: base + 86_400_000}
	revoked := key
	revoked.RevokedAt = base + 3_600_000
	if err := s.InsertAPIKeys(ctx, []canonical.APIKey{revoked}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertAPIKeys(ctx, []canonical.APIKey{key, {Hash: "cd34", Prefix: "pk_", Name: "web"}}); err != nil {
		t.Fatal(err)
	}
	rows, err = s.Query(ctx, "SELECT key_hash, key_prefix, name, scopes, length(scopes), toUnixTimestamp(revoked_at) FROM api_keys FINAL ORDER BY key_hash")
	if err != nil {
		t.Fatal(err)
	}
	want = [][]string{
		{"ab12", "sk_live_", "ci", "['ingest','read']", "2", itoa((base + 3_600_000) / 1000)},
		{"cd34", "pk_", "web", "[]", "0", "0"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("api keys FINAL (revocation must win over the older create)\n got %q\nwant %q", rows, want)
	}
}

func TestServerLoadSnapshot(t *testing.T) {
	s, _ := newTestServer(t)
	testServerLoadSnapshot(t, s)
}

// testServerLoadSnapshot writes the snapshot fixture and reads it back.
func testServerLoadSnapshot(t *testing.T, s *Server) {
	ctx := testContext(t)
	f, _ := s.features(ctx)
	want := writeSnapshotFixture(t, s)
	got, err := s.LoadSnapshot(ctx, 0, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, got, want, f.precisionMillis())
}

func TestServerSnapshotIdempotencyWindow(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := testContext(t)
	day := int64(86_400_000)
	now := base + 30*day
	mk := func(key string, received int64) canonical.Event {
		e := testEvent(int(received % 100000))
		e.IdempotencyKey, e.ReceivedAt = key, received
		return e
	}
	evs := []canonical.Event{
		mk("old", now-8*day),
		mk("edge", now-7*day),     // exactly at since: included
		mk("fresh", now-1*day+42), // inside
		mk("", now),               // no key: never a claim
		mk("twice", now-2*day),
		mk("twice", now-1*day), // the first receipt starts the claim
	}
	evs[5].ID = uuid.New()
	if err := s.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	window := 7 * 24 * time.Hour
	snap, err := s.LoadSnapshot(ctx, now-7*day, window)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := s.features(ctx)
	p := f.precisionMillis()
	got := map[string]int64{}
	for _, c := range snap.Idempotency {
		got[c.Key] = c.ExpiresAt
	}
	want := map[string]int64{
		"edge":  truncateTo(now-7*day, p) + 7*day,
		"fresh": truncateTo(now-1*day+42, p) + 7*day,
		"twice": truncateTo(now-2*day, p) + 7*day,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("idempotency claims\n got %v\nwant %v", got, want)
	}
}

func TestParseServerURL(t *testing.T) {
	f := func(raw, wantAddr, wantDB, wantUser, wantPass string) {
		t.Helper()
		o, db, err := parseServerURL(raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if o.Addr[0] != wantAddr || db != wantDB || o.Auth.Database != wantDB || o.Auth.Username != wantUser || o.Auth.Password != wantPass {
			t.Fatalf("%s: got %s %s %s %s", raw, o.Addr[0], db, o.Auth.Username, o.Auth.Password)
		}
	}
	f("clickhouse://127.0.0.1:9000/hogsend", "127.0.0.1:9000", "hogsend", "default", "")
	f("clickhouse://ch.internal", "ch.internal:9000", "hogsend", "default", "")
	f("clickhouse://ch:9440/events?username=w&password=p%40ss", "ch:9440", "events", "w", "p@ss")
	f("clickhouse://u:pw@ch/", "ch:9000", "hogsend", "u", "pw")

	bad := func(raw, wantErr string) {
		t.Helper()
		_, _, err := parseServerURL(raw)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%s: err = %v, want %q", raw, err, wantErr)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("%s: error leaks the password: %v", raw, err)
		}
	}
	bad("http://ch:8123/hogsend", "native protocol")
	bad("clickhouse:///hogsend", "missing host")
	bad("clickhouse://ch/bad-name", "not a plain identifier")
	bad("clickhouse://ch/db?compression=1&password=s3cret", "unknown parameter")
	bad("clickhouse://ch/db?compress=zstd&password=s3cret", "neither lz4 nor none")
	bad("clickhouse://ch/db?dial_timeout=soon", "dial_timeout")
}

// TestServerCompression: LZ4 across a network, none on loopback, and the
// URL's compress parameter overrides either.
func TestServerCompression(t *testing.T) {
	f := func(raw string, wantLZ4 bool) {
		t.Helper()
		o, _, err := parseServerURL(raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if got := o.Compression != nil && o.Compression.Method == ch.CompressionLZ4; got != wantLZ4 {
			t.Fatalf("%s: lz4 = %v, want %v", raw, got, wantLZ4)
		}
	}
	f("clickhouse://ch.internal/hogsend", true)
	f("clickhouse://10.0.0.5:9000/hogsend", true)
	f("clickhouse://127.0.0.1:9000/hogsend", false)
	f("clickhouse://127.0.0.2/hogsend", false)
	f("clickhouse://[::1]:9000/hogsend", false)
	f("clickhouse://localhost/hogsend", false)
	f("clickhouse://127.0.0.1/hogsend?compress=lz4", true)
	f("clickhouse://ch.internal/hogsend?compress=none", false)
}

func TestFeaturesForVersions(t *testing.T) {
	f := func(version string, dt64, decimal bool, timeType string) {
		t.Helper()
		v, err := parseServerVersion(version)
		if err != nil {
			t.Fatal(err)
		}
		got := featuresFor(v)
		if got.DateTime64 != dt64 || got.Decimal != decimal || got.timeType() != timeType {
			t.Fatalf("%s: %+v", version, got)
		}
	}
	f("18.16.1", false, true, "DateTime('UTC')")
	f("18.10.3", false, false, "DateTime('UTC')")
	f("20.3.19.4", false, true, "DateTime('UTC')")
	f("23.8.2.7", true, true, "DateTime64(3, 'UTC')")
	f("26.5.1.1", true, true, "DateTime64(3, 'UTC')")
	if _, err := parseServerVersion("garbage"); err == nil {
		t.Fatal("parsed garbage")
	}
}

func itoa(v int64) string { return formatValue(v, "Int64") }

func TestOpenServerNeedsNoServer(t *testing.T) {
	ctx := testContext(t)
	s, err := OpenServer(ctx, "clickhouse://127.0.0.1:1/hogsend?dial_timeout=200ms")
	if err != nil {
		t.Fatalf("OpenServer must not dial: %v", err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("ping of a closed port succeeded")
	}
	if err := s.InsertEvents(ctx, testEvents(0, 1)); err == nil {
		t.Fatal("insert into a closed port succeeded")
	}
}

func TestEventColumnsLayout(t *testing.T) {
	if eventColumns[eventValueColumn] != "value" {
		t.Fatalf("eventColumns[%d] = %q, want value", eventValueColumn, eventColumns[eventValueColumn])
	}
}

// Columns past reserveMin are pre-sized (reserveStrings): the rows must come
// back byte for byte, and a second, larger insert on the same connection too.
func TestServerInsertLargeStringColumns(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := testContext(t)
	for round, n := range []int{3000, 5000} {
		rows := make([]canonical.Event, n)
		var want int64
		for i := range rows {
			rows[i] = testEvent(round*10000 + i)
			rows[i].Properties = []byte(fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", 400+i%97)))
			want += int64(len(rows[i].Properties))
		}
		if err := s.InsertEvents(ctx, rows); err != nil {
			t.Fatal(err)
		}
		total := queryRow(t, s, fmt.Sprintf("SELECT count(), sum(length(properties)) FROM user_events WHERE length(properties) > 400 AND user_id LIKE 'user-%%' AND id IN (%s)", idList(rows)))
		if total[0] != strconv.Itoa(n) || total[1] != strconv.FormatInt(want, 10) {
			t.Fatalf("round %d: stored %q, want %d rows of %d bytes", round, total, n, want)
		}
		last := queryRow(t, s, fmt.Sprintf("SELECT properties FROM user_events WHERE id = toUUID('%s')", rows[n-1].ID))
		if last[0] != string(rows[n-1].Properties) {
			t.Fatalf("round %d: last row's properties differ", round)
		}
	}
}

func idList(rows []canonical.Event) string {
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = "toUUID('" + rows[i].ID.String() + "')"
	}
	return strings.Join(ids, ",")
}

// An insert past insertBlockBytes goes as several blocks of one INSERT: the
// rows come back byte for byte, and the server makes them one part.
func TestServerInsertInBlocks(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := testContext(t)
	if err := s.conn.Exec(ctx, "SYSTEM STOP MERGES hogsend.user_events"); err != nil {
		t.Fatal(err)
	}
	partsBefore := queryInt(t, s, "SELECT count() FROM system.parts WHERE database = 'hogsend' AND table = 'user_events' AND active")
	rows := make([]canonical.Event, 20000)
	var want int64
	for i := range rows {
		rows[i] = testEvent(700000 + i)
		rows[i].Properties = []byte(fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("b", 600+i%131)))
		want += int64(len(rows[i].Properties))
	}
	if blocks := len(blockEnds([]any{propertiesOf(rows)}, insertBlockBytes, len(rows))); blocks < 3 {
		t.Fatalf("%d blocks: the test must span several", blocks)
	}
	if err := s.InsertEvents(ctx, rows); err != nil {
		t.Fatal(err)
	}
	got := queryRow(t, s, "SELECT count(), sum(length(properties)) FROM user_events WHERE properties LIKE '%\"pad\":\"bbb%'")
	if got[0] != strconv.Itoa(len(rows)) || got[1] != strconv.FormatInt(want, 10) {
		t.Fatalf("stored %q, want %d rows of %d bytes", got, len(rows), want)
	}
	for _, i := range []int{0, 7777, len(rows) - 1} {
		p := queryRow(t, s, fmt.Sprintf("SELECT properties FROM user_events WHERE id = toUUID('%s')", rows[i].ID))
		if p[0] != string(rows[i].Properties) {
			t.Fatalf("row %d: properties differ", i)
		}
	}
	if parts := queryInt(t, s, "SELECT count() FROM system.parts WHERE database = 'hogsend' AND table = 'user_events' AND active"); parts != partsBefore+1 {
		t.Fatalf("%d new parts, want 1", parts-partsBefore)
	}
}

func propertiesOf(rows []canonical.Event) []string {
	out := make([]string, len(rows))
	for i := range rows {
		out[i] = string(rows[i].Properties)
	}
	return out
}
