package clickhouse

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Table names inside the database.
const (
	tableEvents      = "user_events"
	tableContacts    = "contacts"
	tableAliases     = "contact_aliases"
	tableAPIKeys     = "api_keys"
	tableLists       = "list_memberships"
	tableDeadLetters = "dead_letters"
	tableClicks      = "contact_clicks"
	tableDispatches  = "conversion_dispatches"
	tableConvDead    = "conversion_dead_letters"
	tableEngineDead  = "engine_dead_letters"
	tablePostHogDead = "posthog_dead_letters"
	tableMigrations  = "schema_migrations"
)

// Column lists, in the order the insert code writes them. 18.16 needs the
// explicit list in INSERT, and it keeps the two backends in step.
var (
	eventColumns = []string{
		"id", "event", "user_id", "contact_id", "distinct_id", "properties", "value",
		"currency", "groups", "source", "lib", "ip", "idempotency_key", "occurred_at", "received_at",
	}
	contactColumns = []string{
		"id", "external_id", "email", "anonymous_id", "properties", "source", "first_seen_at",
		"last_seen_at", "created_at", "updated_at", "deleted_at", "is_deleted", "version",
	}
	aliasColumns = []string{
		"alias_kind", "alias_value", "contact_id", "from_contact_id", "reason", "is_deleted", "version", "created_at",
	}
	apiKeyColumns = []string{
		"key_hash", "key_prefix", "name", "scopes", "created_at", "expires_at", "revoked_at", "version",
		"allowed_origins",
	}
	listColumns       = []string{"contact_id", "email", "list_id", "subscribed", "version", "updated_at"}
	deadLetterColumns = []string{"failed_at", "`table`", "row", "record", "reason", "spool_segment", "spool_offset"}
	clickColumns      = []string{"contact_id", "kind", "value", "clicked_at", "event_id"}
	dispatchColumns   = []string{
		"at", "destination", "dedup_id", "rule_id", "event_id", "contact_id", "event_name", "status",
		"attempts", "http_status", "last_error", "latency_ms",
	}
	convDeadColumns   = []string{"destination", "dedup_id", "conversion", "reason", "failed_at", "replayed_at", "version"}
	engineDeadColumns = []string{"call_id", "kind", "contact_id", "method", "path", "idempotency_key", "body",
		"status", "answer", "failed_at", "replayed_at", "version"}
	posthogDeadColumns = []string{"uuid", "token", "historical", "event", "status", "answer", "failed_at", "replayed_at", "version"}
)

// insertPrefix is "INSERT INTO db.table (c1, c2, …)".
func insertPrefix(db, table string, cols []string) string {
	return "INSERT INTO " + db + "." + table + " (" + strings.Join(cols, ", ") + ")"
}

// serverVersion is a parsed SELECT version(), e.g. 18.16.1 or 26.5.1.1.
type serverVersion struct {
	Major, Minor int
	Text         string
}

func parseServerVersion(s string) (serverVersion, error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return serverVersion{}, fmt.Errorf("parse server version %q", s)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return serverVersion{}, fmt.Errorf("parse server version %q", s)
	}
	return serverVersion{Major: major, Minor: minor, Text: s}, nil
}

func (v serverVersion) atLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// features are the schema capabilities of a server version; see the table in
// the package documentation.
type features struct {
	Version        serverVersion
	DateTime64     bool // DateTime64(3,'UTC') and toUnixTimestamp64Milli
	LowCardinality bool // without the experimental setting
	Codecs         bool // column CODEC(ZSTD(1))
	Decimal        bool // Decimal(14,2)
	InsertDedup    bool // non_replicated_deduplication_window
	// Cluster is the cluster the tables are created on (HOGSEND_CLICKHOUSE_CLUSTER);
	// empty for one server. See cluster.go.
	Cluster string
}

// modernFrom is the first version all the modern features are taken from.
// Versions 19.x–20.x have some of them, but nothing we target runs them, so
// they get the conservative schema.
const modernMajor = 21

func featuresFor(v serverVersion) features {
	modern := v.atLeast(modernMajor, 1)
	return features{
		Version:        v,
		DateTime64:     modern,
		LowCardinality: modern,
		Codecs:         modern,
		Decimal:        v.atLeast(18, 12),
		InsertDedup:    modern,
	}
}

func (f features) timeType() string {
	if f.DateTime64 {
		return "DateTime64(3, 'UTC')"
	}
	return "DateTime('UTC')"
}

func (f features) lowCardinality() string {
	if f.LowCardinality {
		return "LowCardinality(String)"
	}
	return "String"
}

func (f features) jsonType() string {
	if f.Codecs {
		return "String CODEC(ZSTD(1))"
	}
	return "String"
}

func (f features) valueType() string {
	if f.Decimal {
		return "Nullable(Decimal(14, 2))"
	}
	return "Nullable(Float64)"
}

func (f features) settings() string {
	// Replicated tables deduplicate inserted blocks by default.
	if f.InsertDedup && f.Cluster == "" {
		// Makes a retried identical insert block a no-op on the server too.
		return "\nSETTINGS non_replicated_deduplication_window = 1000"
	}
	return ""
}

// millis is an SQL expression for a time column as Int64 Unix milliseconds. On
// modern servers it works for DateTime and DateTime64 columns alike, so tables
// created before a server upgrade are still read correctly.
func (f features) millis(col string) string {
	if f.DateTime64 {
		return "toUnixTimestamp64Milli(toDateTime64(" + col + ", 3, 'UTC'))"
	}
	return "toInt64(toUnixTimestamp(" + col + ")) * 1000"
}

// precisionMillis is the resolution of stored times in milliseconds.
func (f features) precisionMillis() int64 {
	if f.DateTime64 {
		return 1
	}
	return 1000
}

// migration is one schema step, recorded in schema_migrations once applied.
// Its statements must be safe to run again (IF NOT EXISTS), since a crash can
// come between them and the record.
type migration struct {
	Version uint32
	Name    string
	Stmts   []string
}

func migrations(db string, f features) []migration {
	t, lc := f.timeType(), f.lowCardinality()
	return []migration{{
		Version: 1,
		Name:    "initial schema",
		Stmts: slices.Concat(
			f.createTable(db, tableEvents, `(
    id UUID,
    event `+lc+`,
    user_id String,
    contact_id UUID,
    distinct_id String,
    properties `+f.jsonType()+`,
    value `+f.valueType()+`,
    currency `+lc+`,
    groups `+f.jsonType()+`,
    source `+lc+`,
    lib `+lc+`,
    ip String,
    idempotency_key String,
    occurred_at `+t+`,
    received_at `+t+`
)`, "ReplacingMergeTree", "", `
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (user_id, event, occurred_at, id)`+f.settings()),

			f.createTable(db, tableContacts, `(
    id UUID,
    external_id String,
    email String,
    anonymous_id String,
    properties `+f.jsonType()+`,
    source `+lc+`,
    first_seen_at `+t+`,
    last_seen_at `+t+`,
    created_at `+t+`,
    updated_at `+t+`,
    deleted_at `+t+`,
    is_deleted UInt8,
    version UInt64
)`, "ReplacingMergeTree", "version", `
ORDER BY id`+f.settings()),

			f.createTable(db, tableAliases, `(
    alias_kind `+lc+`,
    alias_value String,
    contact_id UUID,
    from_contact_id UUID,
    reason `+lc+`,
    is_deleted UInt8,
    version UInt64,
    created_at `+t+`
)`, "ReplacingMergeTree", "version", `
ORDER BY (alias_kind, alias_value)`+f.settings()),

			f.createTable(db, tableAPIKeys, `(
    key_hash String,
    key_prefix String,
    name String,
    scopes Array(String),
    created_at `+t+`,
    expires_at `+t+`,
    revoked_at `+t+`,
    version UInt64,
    allowed_origins Array(String)
)`, "ReplacingMergeTree", "version", `
ORDER BY key_hash`+f.settings()),
		),
	}, {
		Version: 2,
		Name:    "list memberships",
		Stmts: slices.Concat(
			f.createTable(db, tableLists, `(
    contact_id UUID,
    email String,
    list_id `+lc+`,
    subscribed UInt8,
    version UInt64,
    updated_at `+t+`
)`, "ReplacingMergeTree", "version", `
ORDER BY (contact_id, list_id)`+f.settings()),
		),
	}, {
		Version: 3,
		Name:    "dead letters",
		Stmts: slices.Concat(
			// Rows ClickHouse refused (see DeadLetter). A row dead-lettered
			// twice (a retried insert, a re-read spool entry) collapses by
			// its table, spool entry and record.
			f.createTable(db, tableDeadLetters, `(
    failed_at `+t+`,
    `+"`table`"+` `+lc+`,
    row `+f.jsonType()+`,
    record `+f.jsonType()+`,
    reason String,
    spool_segment UInt64,
    spool_offset Int64
)`, "ReplacingMergeTree", "", `
ORDER BY (`+"`table`"+`, spool_segment, spool_offset, cityHash64(record))`+f.settings()),
		),
	}, {
		Version: 4,
		Name:    "conversions",
		Stmts: slices.Concat(
			// Click and browser ids seen on any event, per contact: the
			// attribution context of later conversions.
			f.createTable(db, tableClicks, `(
    contact_id UUID,
    kind `+lc+`,
    value String,
    clicked_at `+t+`,
    event_id UUID
)`, "ReplacingMergeTree", "", `
ORDER BY (contact_id, kind, value, clicked_at)`+f.settings()),

			// One row per state change of a conversion at a destination
			// (queued, each attempt, delivered, failed): the history, read
			// with argMax(status, at) for the current state.
			f.createTable(db, tableDispatches, `(
    at `+t+`,
    destination `+lc+`,
    dedup_id String,
    rule_id `+lc+`,
    event_id UUID,
    contact_id UUID,
    event_name `+lc+`,
    status `+lc+`,
    attempts UInt32,
    http_status UInt16,
    last_error String,
    latency_ms UInt32
)`, "MergeTree", "", `
PARTITION BY toYYYYMM(at)
ORDER BY (destination, dedup_id, at)`),

			// Conversions a platform refused for good, with the platform's
			// reason and the conversion as JSON so that a replay re-sends it
			// unchanged; replayed_at is set by a later version when replayed.
			f.createTable(db, tableConvDead, `(
    destination `+lc+`,
    dedup_id String,
    conversion `+f.jsonType()+`,
    reason String,
    failed_at `+t+`,
    replayed_at `+t+`,
    version UInt64
)`, "ReplacingMergeTree", "version", `
ORDER BY (destination, dedup_id)`+f.settings()),
		),
	}, {
		Version: 5,
		Name:    "engine dead letters",
		Stmts: slices.Concat(
			// Hand-off requests a Hogsend engine refused for good, as sent,
			// with its answer, so that a replay sends them again unchanged;
			// replayed_at is set by a later version when replayed
			// (docs/upstream.md § 3.4).
			f.createTable(db, tableEngineDead, `(
    call_id UUID,
    kind UInt8,
    contact_id UUID,
    method `+lc+`,
    path `+lc+`,
    idempotency_key String,
    body String,
    status UInt16,
    answer String,
    failed_at `+t+`,
    replayed_at `+t+`,
    version UInt64
)`, "ReplacingMergeTree", "version", `
ORDER BY call_id`+f.settings()),
		),
	}, {
		Version: 6,
		Name:    "posthog dead letters",
		Stmts: slices.Concat(
			// Mirrored events a PostHog project refused for good, as sent,
			// with its answer, so that a replay sends them again unchanged;
			// replayed_at is set by a later version when replayed
			// (docs/posthog-upstream.md § 1.4).
			f.createTable(db, tablePostHogDead, `(
    uuid String,
    token `+lc+`,
    historical UInt8,
    event String,
    status UInt16,
    answer String,
    failed_at `+t+`,
    replayed_at `+t+`,
    version UInt64
)`, "ReplacingMergeTree", "version", `
ORDER BY uuid`+f.settings()),
		),
	}}
}

// migrationsTableDDL creates the table that records applied migrations; on
// a cluster every server holds all of it, so any server answers which
// migrations ran.
func migrationsTableDDL(db string, f features) string {
	return f.createTable(db, tableMigrations, `(
    version UInt32,
    name String,
    applied_at DateTime
)`, "ReplacingMergeTree", "", `
ORDER BY version`)[0]
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// quoteString quotes s as a ClickHouse string literal.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
