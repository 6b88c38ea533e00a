package clickhouse

import (
	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// On a cluster (HOGSEND_CLICKHOUSE_CLUSTER) every table is created ON
// CLUSTER as a Replicated*MergeTree, and the tables that grow with traffic
// are sharded behind a Distributed table of the name the proxy reads and
// writes (docs/clickhouse-cluster.md § 2).

// shardKeys is the sharding expression of each sharded table: rows that a
// ReplacingMergeTree collapses (or argMax reads pick from) share the
// expression's inputs, so they live on one shard and FINAL stays correct.
// Tables not listed are replicated whole to every server.
var shardKeys = map[string]string{
	tableEvents:     "cityHash64(toString(contact_id))",
	tableContacts:   "cityHash64(toString(id))",
	tableLists:      "cityHash64(toString(contact_id))",
	tableClicks:     "cityHash64(toString(contact_id))",
	tableDispatches: "cityHash64(toString(contact_id))",
	// An alias's versions may name different contacts (a merge moves it),
	// so aliases are placed by the alias itself, their replacing key.
	tableAliases: "cityHash64(alias_kind, alias_value)",
}

// localSuffix names the replicated table holding a shard's rows of a
// sharded table.
const localSuffix = "_local"

// clusterSettings are the proxy's session settings on a cluster: an insert
// into a Distributed table returns once every shard has the rows, so a
// failed one is retried from the spool rather than queued on a server's
// disk (docs/clickhouse-cluster.md § 3). The replica choice
// (load_balancing) is the user profile's: servers before 19.x take only
// numeric settings from the client.
func clusterSettings() ch.Settings {
	return ch.Settings{"insert_distributed_sync": 1}
}

// onCluster is the ON CLUSTER clause of DDL, empty on one server.
func (f features) onCluster() string {
	if f.Cluster == "" {
		return ""
	}
	return " ON CLUSTER " + f.Cluster
}

// storage is the name of the table that holds table's rows on a server.
func (f features) storage(table string) string {
	if _, sharded := shardKeys[table]; sharded && f.Cluster != "" {
		return table + localSuffix
	}
	return table
}

// engine is the ENGINE of table: kind (MergeTree, ReplacingMergeTree) with
// args on one server; on a cluster its Replicated form, one ZooKeeper path
// per shard for a sharded table and one for the whole cluster otherwise,
// with the {replica} macro (unique in the cluster) as the replica name.
func (f features) engine(db, table, kind, args string) string {
	if f.Cluster == "" {
		if args == "" {
			return kind
		}
		return kind + "(" + args + ")"
	}
	shard := "all"
	if _, sharded := shardKeys[table]; sharded {
		shard = "{shard}"
	}
	path := quoteString("/clickhouse/tables/" + shard + "/" + db + "/" + f.storage(table))
	params := path + ", '{replica}'"
	if args != "" {
		params += ", " + args
	}
	return "Replicated" + kind + "(" + params + ")"
}

// createTable is the DDL of table: CREATE TABLE IF NOT EXISTS with columns
// (the parenthesised list), the engine and the clauses after it (PARTITION
// BY, ORDER BY, SETTINGS); on a cluster, a sharded table is followed by its
// Distributed table.
func (f features) createTable(db, table, columns, kind, args, clauses string) []string {
	stmts := []string{"CREATE TABLE IF NOT EXISTS " + db + "." + f.storage(table) + f.onCluster() + " " + columns +
		" ENGINE = " + f.engine(db, table, kind, args) + clauses}
	if key, sharded := shardKeys[table]; sharded && f.Cluster != "" {
		stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+db+"."+table+f.onCluster()+" AS "+db+"."+f.storage(table)+
			"\nENGINE = Distributed("+f.Cluster+", "+db+", "+f.storage(table)+", "+key+")")
	}
	return stmts
}
