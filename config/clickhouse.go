package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// clusterName is what a cluster name in remote_servers may be: it is
// written into DDL unquoted (docs/clickhouse-cluster.md).
var clusterName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validateClickHouse checks HOGSEND_CLICKHOUSE_URL (one host or several,
// clickhouse://h1:9000,h2:9000/db) and HOGSEND_CLICKHOUSE_CLUSTER.
func (c *Config) validateClickHouse() error {
	if c.ClickHouseURL != "" {
		first, hosts := SplitHosts(c.ClickHouseURL)
		u, err := url.Parse(first)
		if err != nil || u.Scheme != "clickhouse" || u.Host == "" || emptyHost(hosts) {
			return fmt.Errorf("HOGSEND_CLICKHOUSE_URL: %q is not a clickhouse://host:9000[,host2:9000…]/database URL", RedactURL(c.ClickHouseURL))
		}
	}
	if c.ClickHouseCluster == "" {
		return nil
	}
	if c.ClickHouseURL == "" {
		return fmt.Errorf("HOGSEND_CLICKHOUSE_CLUSTER: needs HOGSEND_CLICKHOUSE_URL (the embedded mode is one process)")
	}
	if !clusterName.MatchString(c.ClickHouseCluster) {
		return fmt.Errorf("HOGSEND_CLICKHOUSE_CLUSTER: %q is not a plain identifier (letters, digits, _)", c.ClickHouseCluster)
	}
	return nil
}

func emptyHost(hosts []string) bool {
	for _, h := range hosts {
		if strings.TrimSpace(h) == "" {
			return true
		}
	}
	return false
}
