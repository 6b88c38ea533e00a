// Package clickhouse stores the canonical records in ClickHouse, the system of
// record. Two backends implement Backend with the same DDL and SQL:
//
//   - Server talks to a clickhouse-server over the native protocol
//     (clickhouse-go v2), as production runs it;
//   - Embedded runs the ClickHouse engine in-process through libchdb (chDB),
//     with its data under the proxy's data directory, for the embedded mode.
//
// Writer drains the spool into a Backend in batches and advances its spool
// cursor only after the rows are inserted.
//
// # Poison rows
//
// An insert that fails because of the server or the network is retried
// with the same rows until it succeeds. One that fails because a row holds
// a value ClickHouse (or clickhouse-go, while encoding) refuses, e.g. a
// value with more integer digits than Decimal(14, 2) holds, is bisected
// down to the refused rows; they go to dead_letters (table, row as JSON,
// the canonical record for replay, the error, the spool position) and the
// rest is inserted, so one bad record does not block the spool. See
// poison.go for which errors are which, isolate.go for the bisection.
//
// # Versioned rows
//
// Every table is a ReplacingMergeTree. contacts, contact_aliases and api_keys
// carry an explicit version (the row with the highest version per sorting key
// wins); user_events is keyed by (user_id, event, occurred_at, id), so an event
// re-inserted after a retry collapses into one row. Readers use FINAL.
//
// # On a cluster
//
// OpenCluster names a cluster: Migrate then creates every table ON CLUSTER
// as a Replicated*MergeTree, the ones that grow with traffic sharded by
// contact behind Distributed tables of the names above, the small ones
// replicated whole to every server, and inserts wait for every shard. See
// cluster.go and docs/clickhouse-cluster.md.
//
// # Server versions and the type mapping
//
// Migrate reads SELECT version() and picks column types the server supports
// (see features):
//
//	logical column             ClickHouse ≥ 21.1 (prod 23.x–26.x, chDB 26.5)   older (Debian 18.16.1)
//	timestamps (Unix ms)       DateTime64(3, 'UTC')                            DateTime('UTC'), seconds
//	event/source/currency/…    LowCardinality(String)                          String
//	properties, groups (JSON)  String CODEC(ZSTD(1))                           String
//	value                      Nullable(Decimal(14, 2))                        Nullable(Decimal(14, 2)) (≥ 18.12), else Nullable(Float64)
//	insert deduplication       SETTINGS non_replicated_deduplication_window    none (FINAL still collapses retries)
//
// On the old servers millisecond precision is lost: the snapshot reads such
// times back truncated to whole seconds. Times outside what DateTime can hold
// are clamped to [1970-01-01, 2105-12-31]; 0 (unset) is stored as the epoch.
//
// 18.16 also needs an explicit column list in every INSERT (we always send
// one), has no JSONExtract* (use visitParamExtract*) and no async_insert.
package clickhouse
