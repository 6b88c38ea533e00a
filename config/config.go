// Package config loads the one typed Config of hogsend-proxy from defaults, an
// optional YAML file (HOGSEND_CONFIG) and HOGSEND_* environment variables, in that
// order of precedence, and validates it with messages that name the variable.
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of the service.
type Config struct {
	// Conversions is the YAML file's conversions section, parsed by
	// conversions/platforms at start-up; nil when absent.
	Conversions        *yaml.Node
	Listen             string        // HOGSEND_LISTEN
	RedisURL           string        // HOGSEND_REDIS_URL; empty = in-process identity store
	IdentityCacheBytes int64         // HOGSEND_IDENTITY_CACHE_BYTES; copies of contacts for touches; 0 = none
	ClickHouseURL      string        // HOGSEND_CLICKHOUSE_URL; empty = embedded chDB
	ClickHouseCluster  string        // HOGSEND_CLICKHOUSE_CLUSTER; empty = one server
	DataDir            string        // HOGSEND_DATA_DIR
	AdminAPIKey        string        // HOGSEND_ADMIN_API_KEY
	UserTokenSecret    string        // HOGSEND_USER_TOKEN_SECRET
	IdempotencyWindow  time.Duration // HOGSEND_IDEMPOTENCY_WINDOW
	SpoolMaxBytes      int64         // HOGSEND_SPOOL_MAX_BYTES; 0 = unlimited
	MaxBodyBytes       int64         // HOGSEND_MAX_BODY_BYTES
	ShutdownTimeout    time.Duration // HOGSEND_SHUTDOWN_TIMEOUT
	ReadTimeout        time.Duration // HOGSEND_READ_TIMEOUT
	MaxConns           int           // HOGSEND_MAX_CONNS
	BatchRows          int           // HOGSEND_CLICKHOUSE_BATCH_ROWS
	BatchDelay         time.Duration // HOGSEND_CLICKHOUSE_BATCH_DELAY
	BatchBytes         int64         // HOGSEND_CLICKHOUSE_BATCH_BYTES
	MemoryLimit        int64         // HOGSEND_MEMORY_LIMIT; 0 = none
	ChDBLibPath        string        // HOGSEND_CHDB_LIB
	IngestSuspended    bool          // HOGSEND_INGEST_SUSPENDED
	LogLevel           string        // HOGSEND_LOG_LEVEL
	LogFormat          string        // HOGSEND_LOG_FORMAT: text or json
	PprofListen        string        // HOGSEND_PPROF_LISTEN; empty = off
	PostHogTokens      []string      // HOGSEND_POSTHOG_TOKENS; empty = any well-formed token
	TrustedProxies     []*net.IPNet  // HOGSEND_TRUSTED_PROXIES

	// The public edge's limits (docs/operations.md § Limits).
	HeaderTimeout     time.Duration // HOGSEND_HEADER_TIMEOUT
	MaxConnsPerIP     int           // HOGSEND_MAX_CONNS_PER_IP; 0 = unlimited
	MaxInflightBytes  int64         // HOGSEND_MAX_INFLIGHT_BYTES
	MaxDecodedBytes   int64         // HOGSEND_MAX_DECODED_BYTES
	MaxDecodeRatio    int           // HOGSEND_MAX_DECODE_RATIO
	MaxEventsPerBatch int           // HOGSEND_MAX_EVENTS_PER_REQUEST
	MaxEventBytes     int64         // HOGSEND_MAX_EVENT_BYTES
	MaxProperties     int           // HOGSEND_MAX_PROPERTIES
	MaxPropertyBytes  int64         // HOGSEND_MAX_PROPERTY_BYTES

	// Capture identity trust (docs/identity-trust.md).
	PostHogSecretTokens []string // HOGSEND_POSTHOG_SECRET_TOKENS
	PostHogIdentity     string   // HOGSEND_POSTHOG_IDENTITY: standard or verified

	// The Hogsend engine behind the proxy (docs/upstream.md); empty = none.
	UpstreamURL     string        // HOGSEND_UPSTREAM_URL
	UpstreamAPIKey  string        // HOGSEND_UPSTREAM_API_KEY
	UpstreamTimeout time.Duration // HOGSEND_UPSTREAM_TIMEOUT
	// UpstreamMode is "async" (answer from the proxy's state at once) or
	// "sync" (wait up to UpstreamSyncTimeout for the engine's answer).
	UpstreamMode        string        // HOGSEND_UPSTREAM_MODE
	UpstreamSyncTimeout time.Duration // HOGSEND_UPSTREAM_SYNC_TIMEOUT
	UpstreamConcurrency int           // HOGSEND_UPSTREAM_CONCURRENCY: hand-off lanes

	// The PostHog project behind the proxy (docs/posthog-upstream.md);
	// empty = none.
	PostHogUpstreamURL  string        // HOGSEND_POSTHOG_UPSTREAM_URL: ingestion host
	PostHogAssetsURL    string        // HOGSEND_POSTHOG_ASSETS_URL: assets host
	PostHogTimeout      time.Duration // HOGSEND_POSTHOG_TIMEOUT
	PostHogMirrorNative bool          // HOGSEND_POSTHOG_MIRROR_NATIVE
	PostHogMirrorToken  string        // HOGSEND_POSTHOG_MIRROR_TOKEN

	// DeliveryYield slows the hand-off and the mirror while the process
	// is short of CPU, so that ingest keeps it (docs/operations.md §
	// Delivery pacing).
	DeliveryYield bool // HOGSEND_DELIVERY_YIELD
}

// Embedded reports whether the service runs without Redis and ClickHouse servers.
func (c *Config) Embedded() bool { return c.RedisURL == "" && c.ClickHouseURL == "" }

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Listen:              "127.0.0.1:8080",
		DataDir:             "./data",
		IdempotencyWindow:   168 * time.Hour,
		MaxBodyBytes:        20 << 20,
		IdentityCacheBytes:  32 << 20,
		ShutdownTimeout:     30 * time.Second,
		ReadTimeout:         30 * time.Second,
		MaxConns:            10000,
		BatchRows:           100000,
		BatchDelay:          time.Second,
		BatchBytes:          32 << 20,
		MemoryLimit:         384 << 20,
		LogLevel:            "info",
		LogFormat:           "text",
		HeaderTimeout:       10 * time.Second,
		MaxConnsPerIP:       256,
		MaxInflightBytes:    128 << 20,
		MaxDecodedBytes:     32 << 20,
		MaxDecodeRatio:      100,
		MaxEventsPerBatch:   10000,
		MaxEventBytes:       1000000,
		MaxProperties:       10000,
		MaxPropertyBytes:    256 << 10,
		PostHogIdentity:     "standard",
		UpstreamTimeout:     30 * time.Second,
		UpstreamMode:        "async",
		UpstreamSyncTimeout: 2 * time.Second,
		UpstreamConcurrency: 64,
		PostHogTimeout:      10 * time.Second,
		DeliveryYield:       true,
	}
}

// Load builds the configuration from defaults, the YAML file named by
// HOGSEND_CONFIG (if set) and the environment, then validates it. getenv is
// os.Getenv in the binary and a map lookup in tests.
func Load(getenv func(string) string) (Config, error) {
	c := Default()
	if path := getenv("HOGSEND_CONFIG"); path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("HOGSEND_CONFIG: read %s: %w", path, err)
		}
		if err := applyYAML(&c, raw, path); err != nil {
			return c, err
		}
	}
	for _, f := range fields {
		v, ok := lookup(getenv, f.env)
		if !ok {
			continue
		}
		if err := f.set(&c, v); err != nil {
			return c, fmt.Errorf("%s: %w", f.env, err)
		}
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// lookup treats an empty variable as unset, except for the URL variables where
// empty explicitly selects the embedded default.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	if v == "" {
		return "", false
	}
	return v, true
}

// Validate checks cross-field rules; each error names the variable.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("HOGSEND_LISTEN: %q is not host:port: %v", c.Listen, err)
	}
	if c.RedisURL != "" && !validRedisURL(c.RedisURL) {
		return fmt.Errorf("HOGSEND_REDIS_URL: %q is not a redis://host:port, redis+cluster://h1:port,h2:port or redis+sentinel://s1:port,s2:port/0?master=name URL", RedactURL(c.RedisURL))
	}
	if err := c.validateClickHouse(); err != nil {
		return err
	}
	if err := c.validatePostHogUpstream(); err != nil {
		return err
	}
	if err := c.validateUpstream(); err != nil {
		return err
	}
	if (c.RedisURL == "") != (c.ClickHouseURL == "") {
		return fmt.Errorf("HOGSEND_REDIS_URL and HOGSEND_CLICKHOUSE_URL: set both for a server deployment, or neither for the embedded mode")
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return fmt.Errorf("HOGSEND_DATA_DIR: must not be empty")
	}
	if c.IdempotencyWindow < time.Second {
		return fmt.Errorf("HOGSEND_IDEMPOTENCY_WINDOW: %s is too short (minimum 1s)", c.IdempotencyWindow)
	}
	if c.SpoolMaxBytes < 0 {
		return fmt.Errorf("HOGSEND_SPOOL_MAX_BYTES: must be 0 (unlimited) or positive")
	}
	if c.IdentityCacheBytes < 0 {
		return fmt.Errorf("HOGSEND_IDENTITY_CACHE_BYTES: %d is negative", c.IdentityCacheBytes)
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("HOGSEND_MAX_BODY_BYTES: %d is too small (minimum 1024)", c.MaxBodyBytes)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("HOGSEND_SHUTDOWN_TIMEOUT: must be positive")
	}
	if c.ReadTimeout <= 0 {
		return fmt.Errorf("HOGSEND_READ_TIMEOUT: must be positive")
	}
	if c.MaxConns <= 0 {
		return fmt.Errorf("HOGSEND_MAX_CONNS: must be positive")
	}
	if c.BatchRows <= 0 {
		return fmt.Errorf("HOGSEND_CLICKHOUSE_BATCH_ROWS: must be positive")
	}
	if c.BatchBytes < 1<<20 {
		return fmt.Errorf("HOGSEND_CLICKHOUSE_BATCH_BYTES: %d is too small (minimum 1MiB)", c.BatchBytes)
	}
	if c.MemoryLimit != 0 && c.MemoryLimit < 64<<20 {
		return fmt.Errorf("HOGSEND_MEMORY_LIMIT: %d is too small (0 for none, else at least 64MiB)", c.MemoryLimit)
	}
	if c.BatchDelay <= 0 {
		return fmt.Errorf("HOGSEND_CLICKHOUSE_BATCH_DELAY: must be positive")
	}
	if c.PprofListen != "" {
		if _, _, err := net.SplitHostPort(c.PprofListen); err != nil {
			return fmt.Errorf("HOGSEND_PPROF_LISTEN: %q is not host:port: %v", c.PprofListen, err)
		}
	}
	if err := c.validateLimits(); err != nil {
		return err
	}
	switch c.PostHogIdentity {
	case "standard", "verified":
	default:
		return fmt.Errorf("HOGSEND_POSTHOG_IDENTITY: %q is not standard or verified", c.PostHogIdentity)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("HOGSEND_LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("HOGSEND_LOG_FORMAT: %q is not text or json", c.LogFormat)
	}
	return nil
}

// maxSpoolEntryBytes mirrors the spool's largest record: a decoded payload
// must stay below it, or its request could never be made durable.
const maxSpoolEntryBytes = 64 << 20

// validateLimits checks the edge's limits; each error names the variable.
func (c *Config) validateLimits() error {
	switch {
	case c.HeaderTimeout <= 0:
		return fmt.Errorf("HOGSEND_HEADER_TIMEOUT: must be positive")
	case c.HeaderTimeout > c.ReadTimeout:
		return fmt.Errorf("HOGSEND_HEADER_TIMEOUT: %s is longer than HOGSEND_READ_TIMEOUT (%s)", c.HeaderTimeout, c.ReadTimeout)
	case c.MaxConnsPerIP < 0:
		return fmt.Errorf("HOGSEND_MAX_CONNS_PER_IP: must be 0 (unlimited) or positive")
	case c.MaxInflightBytes < c.MaxBodyBytes:
		return fmt.Errorf("HOGSEND_MAX_INFLIGHT_BYTES: %d is below HOGSEND_MAX_BODY_BYTES (%d)", c.MaxInflightBytes, c.MaxBodyBytes)
	case c.MaxDecodedBytes < 1024:
		return fmt.Errorf("HOGSEND_MAX_DECODED_BYTES: %d is too small (minimum 1024)", c.MaxDecodedBytes)
	case c.MaxDecodedBytes > maxSpoolEntryBytes/4*3:
		return fmt.Errorf("HOGSEND_MAX_DECODED_BYTES: %d is above 48MiB, the most a spool record can hold with its encoding", c.MaxDecodedBytes)
	case c.MaxDecodeRatio < 2:
		return fmt.Errorf("HOGSEND_MAX_DECODE_RATIO: must be at least 2")
	case c.MaxEventsPerBatch <= 0:
		return fmt.Errorf("HOGSEND_MAX_EVENTS_PER_REQUEST: must be positive")
	case c.MaxEventBytes < 1024:
		return fmt.Errorf("HOGSEND_MAX_EVENT_BYTES: %d is too small (minimum 1024)", c.MaxEventBytes)
	case c.MaxProperties <= 0:
		return fmt.Errorf("HOGSEND_MAX_PROPERTIES: must be positive")
	case c.MaxPropertyBytes < 64 || c.MaxPropertyBytes > c.MaxEventBytes:
		return fmt.Errorf("HOGSEND_MAX_PROPERTY_BYTES: %d must be between 64 and HOGSEND_MAX_EVENT_BYTES", c.MaxPropertyBytes)
	}
	return nil
}

// validateUpstream checks the engine's settings: an http(s) base URL
// without query or fragment, and a positive timeout.
func (c *Config) validateUpstream() error {
	if c.UpstreamURL != "" {
		u, err := url.Parse(c.UpstreamURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("HOGSEND_UPSTREAM_URL: %q is not an http(s)://host[:port][/path] URL", RedactURL(c.UpstreamURL))
		}
	}
	switch {
	case c.UpstreamTimeout <= 0:
		return fmt.Errorf("HOGSEND_UPSTREAM_TIMEOUT: must be positive")
	case c.UpstreamMode != "async" && c.UpstreamMode != "sync":
		return fmt.Errorf("HOGSEND_UPSTREAM_MODE: %q is neither async nor sync", c.UpstreamMode)
	case c.UpstreamSyncTimeout <= 0:
		return fmt.Errorf("HOGSEND_UPSTREAM_SYNC_TIMEOUT: must be positive")
	case c.UpstreamConcurrency < 1 || c.UpstreamConcurrency > 4096:
		return fmt.Errorf("HOGSEND_UPSTREAM_CONCURRENCY: %d is not between 1 and 4096", c.UpstreamConcurrency)
	case c.UpstreamAPIKey != "" && c.UpstreamURL == "":
		return fmt.Errorf("HOGSEND_UPSTREAM_API_KEY: set without HOGSEND_UPSTREAM_URL")
	}
	return nil
}

// validatePostHogUpstream checks the PostHog project's hosts and fills in
// the assets host and the mirror's token where they can be derived.
func (c *Config) validatePostHogUpstream() error {
	if c.PostHogUpstreamURL == "" {
		if c.PostHogAssetsURL != "" || c.PostHogMirrorNative {
			return fmt.Errorf("HOGSEND_POSTHOG_UPSTREAM_URL: needed by HOGSEND_POSTHOG_ASSETS_URL and HOGSEND_POSTHOG_MIRROR_NATIVE")
		}
		return nil
	}
	for _, f := range []struct{ name, v string }{{"HOGSEND_POSTHOG_UPSTREAM_URL", c.PostHogUpstreamURL}, {"HOGSEND_POSTHOG_ASSETS_URL", c.PostHogAssetsURL}} {
		if f.v == "" {
			continue
		}
		u, err := url.Parse(f.v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%s: %q is not an http(s)://host[:port][/path] URL", f.name, RedactURL(f.v))
		}
	}
	if c.PostHogAssetsURL == "" {
		c.PostHogAssetsURL = postHogAssetsHost(c.PostHogUpstreamURL)
	}
	if c.PostHogMirrorToken == "" && len(c.PostHogTokens) > 0 {
		c.PostHogMirrorToken = c.PostHogTokens[0]
	}
	if c.PostHogTimeout <= 0 {
		return fmt.Errorf("HOGSEND_POSTHOG_TIMEOUT: must be positive")
	}
	return nil
}

// postHogAssetsHost is PostHog Cloud's assets host of an ingestion host
// (eu.i.posthog.com → eu-assets.i.posthog.com); a self-hosted PostHog
// serves both from one host.
func postHogAssetsHost(ingest string) string {
	u, err := url.Parse(ingest)
	if err != nil {
		return ingest
	}
	if region, ok := strings.CutSuffix(u.Hostname(), ".i.posthog.com"); ok && !strings.Contains(region, ".") {
		u.Host = region + "-assets.i.posthog.com"
		if p := u.Port(); p != "" {
			u.Host += ":" + p
		}
		return u.String()
	}
	return ingest
}

// HandOff reports whether stored records are handed off to the engine:
// it needs the engine's URL and a key to send them with.
func (c *Config) HandOff() bool { return c.UpstreamURL != "" && c.UpstreamAPIKey != "" }

// validRedisURL checks the forms identity.ParseRedisURL reads: one server,
// a cluster's nodes or a Sentinel set (with its master's name), each with
// rediss for TLS. The client checks the rest when it opens.
func validRedisURL(raw string) bool {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return false
	}
	base, kind, _ := strings.Cut(scheme, "+")
	if base != "redis" && base != "rediss" {
		return false
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	hosts, tail, _ := strings.Cut(rest, "?")
	hosts, _, _ = strings.Cut(hosts, "/")
	switch kind {
	case "":
		u, err := url.Parse(raw)
		return err == nil && u.Host != "" && !strings.Contains(hosts, ",")
	case "cluster":
		return hosts != ""
	case "sentinel":
		q, err := url.ParseQuery(tail)
		return hosts != "" && err == nil && q.Get("master") != ""
	}
	return false
}
