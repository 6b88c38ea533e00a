package config

import (
	"strings"
	"testing"
)

func TestClickHouseClusterSettings(t *testing.T) {
	ok := func(vars map[string]string) Config {
		t.Helper()
		c, err := Load(env(vars))
		if err != nil {
			t.Fatalf("Load(%v): %v", vars, err)
		}
		return c
	}
	bad := func(vars map[string]string, want string) {
		t.Helper()
		_, err := Load(env(vars))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Load(%v) error = %v, want it to contain %q", vars, err, want)
		}
	}
	servers := map[string]string{"HOGSEND_REDIS_URL": "redis://h:6379", "HOGSEND_CLICKHOUSE_URL": "clickhouse://u:p@h1:9000,h2:9000/db"}
	if c := ok(servers); c.ClickHouseCluster != "" {
		t.Fatalf("cluster %q by default", c.ClickHouseCluster)
	}
	servers["HOGSEND_CLICKHOUSE_CLUSTER"] = "prod_2x2"
	if c := ok(servers); c.ClickHouseCluster != "prod_2x2" {
		t.Fatalf("cluster %q", c.ClickHouseCluster)
	}
	servers["HOGSEND_CLICKHOUSE_CLUSTER"] = "prod cluster"
	bad(servers, "HOGSEND_CLICKHOUSE_CLUSTER")
	bad(map[string]string{"HOGSEND_CLICKHOUSE_CLUSTER": "c"}, "HOGSEND_CLICKHOUSE_CLUSTER")
	bad(map[string]string{"HOGSEND_REDIS_URL": "redis://h:6379", "HOGSEND_CLICKHOUSE_URL": "clickhouse://h1:9000,/db"}, "HOGSEND_CLICKHOUSE_URL")
}

func TestSplitHostsAndRedact(t *testing.T) {
	first, hosts := SplitHosts("clickhouse://u:s3cret@h1:9000,h2:9001,[::1]:9002/db?secure=true")
	if first != "clickhouse://u:s3cret@h1:9000/db?secure=true" || strings.Join(hosts, " ") != "h1:9000 h2:9001 [::1]:9002" {
		t.Fatalf("SplitHosts = %q, %q", first, hosts)
	}
	if first, hosts := SplitHosts("clickhouse://h"); first != "clickhouse://h" || len(hosts) != 1 {
		t.Fatalf("one host: %q, %q", first, hosts)
	}
	got := RedactURL("clickhouse://u:s3cret@h1:9000,h2:9001/db?password=p2")
	if want := "clickhouse://u:xxxxx@h1:9000,h2:9001/db?password=xxxxx"; got != want {
		t.Fatalf("RedactURL = %q, want %q", got, want)
	}
}
