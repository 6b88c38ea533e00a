package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ClickHouse starts a clickhouse-server with a minimal configuration on a free
// native (TCP) port, with its data under a fresh temporary directory.
func ClickHouse(tb TB) *Process {
	tb.Helper()
	p := NewClickHouse(tb)
	p.Start(60 * time.Second)
	return p
}

// NewClickHouse configures a clickhouse-server as ClickHouse does, on a port
// where nothing listens until Start: a dependency that comes up late.
func NewClickHouse(tb TB) *Process {
	tb.Helper()
	bin := requireBinary(tb, "clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server")
	p := newProcess(tb, "clickhouse", bin)
	port, dir, httpPort := p.Port, p.Dir, FreePort(tb)
	conf := filepath.Join(dir, "config.xml")
	users := filepath.Join(dir, "users.xml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(clickhouseConfig, dir, dir, httpPort, port, dir, dir, dir)), 0o644); err != nil {
		tb.Fatalf("write clickhouse config: %v", err)
	}
	if err := os.WriteFile(users, []byte(clickhouseUsers), 0o644); err != nil {
		tb.Fatalf("write clickhouse users: %v", err)
	}
	p.args = []string{"--config-file=" + conf}
	tb.Cleanup(p.cleanup)
	return p
}

// ClickHouseURL is the clickhouse:// URL of the server for database db.
func (p *Process) ClickHouseURL(db string) string {
	return "clickhouse://" + p.Addr + "/" + db
}

// The directories are: log, error log, http port, tcp port, path, tmp path,
// user files path.
const clickhouseConfig = `<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>%s/clickhouse-server.log</log>
        <errorlog>%s/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>1</count>
    </logger>
    <http_port>%d</http_port>
    <tcp_port>%d</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>%s/data/</path>
    <tmp_path>%s/tmp/</tmp_path>
    <user_files_path>%s/user_files/</user_files_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
</yandex>
`

const clickhouseUsers = `<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>::/0</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
`
