package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// field binds one setting to its environment variable and YAML key. The table is
// the single list of settings: Load, the YAML reader and the README table all
// follow it.
type field struct {
	env  string
	yaml string
	help string
	set  func(c *Config, v string) error
}

var fields = []field{
	{"HOGSEND_LISTEN", "listen", "address the HTTP server listens on", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"HOGSEND_REDIS_URL", "redis_url", "Redis for identity and idempotency; empty = in-process store", func(c *Config, v string) error { c.RedisURL = v; return nil }},
	{"HOGSEND_IDENTITY_CACHE_BYTES", "identity_cache_bytes", "copies of contacts a Redis identity store keeps, so that an event changing nothing but last_seen is a touch; 0 = none", bytesField(func(c *Config) *int64 { return &c.IdentityCacheBytes })},
	{"HOGSEND_CLICKHOUSE_URL", "clickhouse_url", "ClickHouse native-protocol URL; empty = embedded chDB", func(c *Config, v string) error { c.ClickHouseURL = v; return nil }},
	{"HOGSEND_CLICKHOUSE_CLUSTER", "clickhouse_cluster", "ClickHouse cluster (remote_servers name) to create replicated, sharded tables on; empty = one server", func(c *Config, v string) error { c.ClickHouseCluster = v; return nil }},
	{"HOGSEND_DATA_DIR", "data_dir", "spool and embedded data directory", func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"HOGSEND_ADMIN_API_KEY", "admin_api_key", "a bearer equal to it has full-admin", func(c *Config, v string) error { c.AdminAPIKey = v; return nil }},
	{"HOGSEND_USER_TOKEN_SECRET", "user_token_secret", "HMAC secret of the userTokens that let publishable keys act on a userId", func(c *Config, v string) error { c.UserTokenSecret = v; return nil }},
	{"HOGSEND_IDEMPOTENCY_WINDOW", "idempotency_window", "how long an idempotency key is remembered", durationField(func(c *Config) *time.Duration { return &c.IdempotencyWindow })},
	{"HOGSEND_SPOOL_MAX_BYTES", "spool_max_bytes", "cap on spool bytes on disk; 0 = unlimited", bytesField(func(c *Config) *int64 { return &c.SpoolMaxBytes })},
	{"HOGSEND_MAX_BODY_BYTES", "max_body_bytes", "largest accepted request body", bytesField(func(c *Config) *int64 { return &c.MaxBodyBytes })},
	{"HOGSEND_SHUTDOWN_TIMEOUT", "shutdown_timeout", "bound on graceful shutdown", durationField(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"HOGSEND_READ_TIMEOUT", "read_timeout", "longest time a client may take to send a request", durationField(func(c *Config) *time.Duration { return &c.ReadTimeout })},
	{"HOGSEND_MAX_CONNS", "max_conns", "most concurrent client connections; more get 503", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		c.MaxConns = n
		return nil
	}},
	{"HOGSEND_CLICKHOUSE_BATCH_ROWS", "clickhouse_batch_rows", "most rows per ClickHouse insert; inserts happen once per batch delay or when this many rows wait", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		c.BatchRows = n
		return nil
	}},
	{"HOGSEND_CLICKHOUSE_BATCH_DELAY", "clickhouse_batch_delay", "longest wait before a partial insert", durationField(func(c *Config) *time.Duration { return &c.BatchDelay })},
	{"HOGSEND_CLICKHOUSE_BATCH_BYTES", "clickhouse_batch_bytes", "most spool bytes per ClickHouse insert; bounds the writer's memory", bytesField(func(c *Config) *int64 { return &c.BatchBytes })},
	{"HOGSEND_MEMORY_LIMIT", "memory_limit", "soft limit of the Go heap (the runtime collects harder near it); 0 = none; GOMEMLIMIT wins", bytesField(func(c *Config) *int64 { return &c.MemoryLimit })},
	{"HOGSEND_CHDB_LIB", "chdb_lib", "path of libchdb.so for the embedded mode", func(c *Config, v string) error { c.ChDBLibPath = v; return nil }},
	{"HOGSEND_INGEST_SUSPENDED", "ingest_suspended", "answer POST /v1/events with 429 ingest_suspended", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", v)
		}
		c.IngestSuspended = b
		return nil
	}},
	{"HOGSEND_LOG_LEVEL", "log_level", "debug, info, warn or error", func(c *Config, v string) error { c.LogLevel = strings.ToLower(v); return nil }},
	{"HOGSEND_LOG_FORMAT", "log_format", "text (logfmt) or json, one object a line", func(c *Config, v string) error { c.LogFormat = strings.ToLower(v); return nil }},
	{"HOGSEND_POSTHOG_TOKENS", "posthog_tokens", "comma-separated PostHog project tokens accepted on capture; empty = any well-formed token", func(c *Config, v string) error {
		c.PostHogTokens = nil
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				c.PostHogTokens = append(c.PostHogTokens, t)
			}
		}
		return nil
	}},
	{"HOGSEND_TRUSTED_PROXIES", "trusted_proxies", "comma-separated IPs or CIDRs whose X-Forwarded-For gives the client IP", func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if !strings.Contains(p, "/") {
				if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
					p += "/32"
				} else {
					p += "/128"
				}
			}
			_, n, err := net.ParseCIDR(p)
			if err != nil {
				return fmt.Errorf("%q is not an IP or CIDR", p)
			}
			c.TrustedProxies = append(c.TrustedProxies, n)
		}
		return nil
	}},
	{"HOGSEND_UPSTREAM_URL", "upstream_url", "base URL of the Hogsend engine behind the proxy; routes the proxy does not serve go to it; empty = none", func(c *Config, v string) error { c.UpstreamURL = v; return nil }},
	{"HOGSEND_UPSTREAM_API_KEY", "upstream_api_key", "an engine hsk_ key with ingest, for handing records to the engine", func(c *Config, v string) error { c.UpstreamAPIKey = v; return nil }},
	{"HOGSEND_POSTHOG_UPSTREAM_URL", "posthog_upstream_url", "PostHog ingestion host (e.g. https://eu.i.posthog.com): captured events are mirrored to it, and what PostHog serves besides capture passes through; empty = none", func(c *Config, v string) error { c.PostHogUpstreamURL = v; return nil }},
	{"HOGSEND_POSTHOG_ASSETS_URL", "posthog_assets_url", "PostHog assets host for /static/ and /array/ (default: the Cloud assets host of the ingestion host, else the ingestion host)", func(c *Config, v string) error { c.PostHogAssetsURL = v; return nil }},
	{"HOGSEND_POSTHOG_TIMEOUT", "posthog_timeout", "longest wait for PostHog's answer to a passed-through request or a mirrored batch", durationField(func(c *Config) *time.Duration { return &c.PostHogTimeout })},
	{"HOGSEND_POSTHOG_MIRROR_NATIVE", "posthog_mirror_native", "mirror native events to PostHog too, under the person's userId or email", boolField(func(c *Config) *bool { return &c.PostHogMirrorNative })},
	{"HOGSEND_DELIVERY_YIELD", "delivery_yield", "the hand-off and the mirror send fewer requests at once while the process is short of CPU, so that ingest keeps it; false = always at full concurrency", boolField(func(c *Config) *bool { return &c.DeliveryYield })},
	{"HOGSEND_POSTHOG_MIRROR_TOKEN", "posthog_mirror_token", "project token of mirrored events that carry none (native events, captures with a secret token); default: the first of HOGSEND_POSTHOG_TOKENS", func(c *Config, v string) error { c.PostHogMirrorToken = v; return nil }},
	{"HOGSEND_UPSTREAM_MODE", "upstream_mode", "async: native writes answer from the proxy's state at once; sync: they wait for the engine's answer", func(c *Config, v string) error { c.UpstreamMode = v; return nil }},
	{"HOGSEND_UPSTREAM_SYNC_TIMEOUT", "upstream_sync_timeout", "longest wait of a sync-mode write (and of a delete) for the engine's answer", durationField(func(c *Config) *time.Duration { return &c.UpstreamSyncTimeout })},
	{"HOGSEND_UPSTREAM_CONCURRENCY", "upstream_concurrency", "hand-off delivery lanes; a contact's records share one and go in order", intField(func(c *Config) *int { return &c.UpstreamConcurrency })},
	{"HOGSEND_UPSTREAM_TIMEOUT", "upstream_timeout", "longest wait for the engine's answer to a passed-through request", durationField(func(c *Config) *time.Duration { return &c.UpstreamTimeout })},
	{"HOGSEND_PPROF_LISTEN", "pprof_listen", "address for Go's pprof handlers; empty = off", func(c *Config, v string) error { c.PprofListen = v; return nil }},
	{"HOGSEND_HEADER_TIMEOUT", "header_timeout", "longest time a client may take to send the request line and headers", durationField(func(c *Config) *time.Duration { return &c.HeaderTimeout })},
	{"HOGSEND_MAX_CONNS_PER_IP", "max_conns_per_ip", "most concurrent connections from one client IP; 0 = unlimited", intField(func(c *Config) *int { return &c.MaxConnsPerIP })},
	{"HOGSEND_MAX_INFLIGHT_BYTES", "max_inflight_bytes", "bound on request bytes (bodies and their decoded payloads) held at once across all connections", bytesField(func(c *Config) *int64 { return &c.MaxInflightBytes })},
	{"HOGSEND_MAX_DECODED_BYTES", "max_decoded_bytes", "largest capture payload after decompression and decoding", bytesField(func(c *Config) *int64 { return &c.MaxDecodedBytes })},
	{"HOGSEND_MAX_DECODE_RATIO", "max_decode_ratio", "largest ratio of a capture payload's decoded size to its wire size", intField(func(c *Config) *int { return &c.MaxDecodeRatio })},
	{"HOGSEND_MAX_EVENTS_PER_REQUEST", "max_events_per_request", "most events in one capture request", intField(func(c *Config) *int { return &c.MaxEventsPerBatch })},
	{"HOGSEND_MAX_EVENT_BYTES", "max_event_bytes", "largest single event", bytesField(func(c *Config) *int64 { return &c.MaxEventBytes })},
	{"HOGSEND_MAX_PROPERTIES", "max_properties", "most members of one properties, $set, $set_once or $unset object", intField(func(c *Config) *int { return &c.MaxProperties })},
	{"HOGSEND_MAX_PROPERTY_BYTES", "max_property_bytes", "largest single property value", bytesField(func(c *Config) *int64 { return &c.MaxPropertyBytes })},
	{"HOGSEND_POSTHOG_SECRET_TOKENS", "posthog_secret_tokens", "comma-separated server-side capture tokens whose events may join identified people", func(c *Config, v string) error {
		c.PostHogSecretTokens = splitList(v)
		return nil
	}},
	{"HOGSEND_POSTHOG_IDENTITY", "posthog_identity", "standard, or verified: every capture write on an identified contact needs proof", func(c *Config, v string) error { c.PostHogIdentity = strings.ToLower(v); return nil }},
}

// intField parses a plain integer.
func intField(ptr func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		*ptr(c) = n
		return nil
	}
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func boolField(ptr func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", v)
		}
		*ptr(c) = b
		return nil
	}
}

func durationField(ptr func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 30s or 168h", v)
		}
		*ptr(c) = d
		return nil
	}
}

// bytesField accepts a plain byte count or one with a KiB/MiB/GiB/TiB (or K/M/G/T)
// suffix.
func bytesField(ptr func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := ParseBytes(v)
		if err != nil {
			return err
		}
		*ptr(c) = n
		return nil
	}
}

// ParseBytes parses "1048576", "512MiB", "10GiB", "64M".
func ParseBytes(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a byte size like 1048576 or 10GiB", v)
	}
	return n * mult, nil
}

// Variables lists every HOGSEND_* variable with its YAML key and meaning, for
// documentation and `hogsend-proxy config`.
func Variables() [][3]string {
	out := make([][3]string, 0, len(fields)+1)
	out = append(out, [3]string{"HOGSEND_CONFIG", "", "path of an optional YAML configuration file"})
	for _, f := range fields {
		out = append(out, [3]string{f.env, f.yaml, f.help})
	}
	return out
}
