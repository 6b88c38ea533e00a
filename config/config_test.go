package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DataDir != "./data" || c.IdempotencyWindow != 168*time.Hour || !c.Embedded() {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestEnvOverridesYAML(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(p, []byte("listen: 0.0.0.0:9000\nidempotency_window: 1h\nspool_max_bytes: 1GiB\nconversions:\n  rules: []\n"), 0o644)
	c, err := Load(env(map[string]string{"HOGSEND_CONFIG": p, "HOGSEND_IDEMPOTENCY_WINDOW": "2h"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:9000" {
		t.Fatalf("listen from yaml: %q", c.Listen)
	}
	if c.IdempotencyWindow != 2*time.Hour {
		t.Fatalf("env must win: %s", c.IdempotencyWindow)
	}
	if c.SpoolMaxBytes != 1<<30 {
		t.Fatalf("spool max: %d", c.SpoolMaxBytes)
	}
}

func TestErrorsNameTheVariable(t *testing.T) {
	f := func(vars map[string]string, want string) {
		t.Helper()
		_, err := Load(env(vars))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Load(%v) error = %v, want it to contain %q", vars, err, want)
		}
	}
	f(map[string]string{"HOGSEND_IDEMPOTENCY_WINDOW": "week"}, "HOGSEND_IDEMPOTENCY_WINDOW")
	f(map[string]string{"HOGSEND_LISTEN": "nope"}, "HOGSEND_LISTEN")
	f(map[string]string{"HOGSEND_REDIS_URL": "http://x", "HOGSEND_CLICKHOUSE_URL": "clickhouse://h:9000/db"}, "HOGSEND_REDIS_URL")
	f(map[string]string{"HOGSEND_REDIS_URL": "redis://h:6379"}, "HOGSEND_CLICKHOUSE_URL")
	f(map[string]string{"HOGSEND_SPOOL_MAX_BYTES": "lots"}, "HOGSEND_SPOOL_MAX_BYTES")
	f(map[string]string{"HOGSEND_LOG_LEVEL": "loud"}, "HOGSEND_LOG_LEVEL")
	f(map[string]string{"HOGSEND_LOG_FORMAT": "xml"}, "HOGSEND_LOG_FORMAT")
	f(map[string]string{"HOGSEND_CONFIG": "/nonexistent.yaml"}, "HOGSEND_CONFIG")
	f(map[string]string{"HOGSEND_UPSTREAM_URL": "engine.example:3000"}, "HOGSEND_UPSTREAM_URL")
	f(map[string]string{"HOGSEND_UPSTREAM_URL": "https://engine.example/?key=secret"}, "HOGSEND_UPSTREAM_URL")
	f(map[string]string{"HOGSEND_UPSTREAM_TIMEOUT": "0s"}, "HOGSEND_UPSTREAM_TIMEOUT")
	f(map[string]string{"HOGSEND_UPSTREAM_MODE": "later"}, "HOGSEND_UPSTREAM_MODE")
	f(map[string]string{"HOGSEND_POSTHOG_UPSTREAM_URL": "eu.i.posthog.com"}, "HOGSEND_POSTHOG_UPSTREAM_URL")
	f(map[string]string{"HOGSEND_POSTHOG_MIRROR_NATIVE": "true"}, "HOGSEND_POSTHOG_UPSTREAM_URL")
	f(map[string]string{"HOGSEND_POSTHOG_UPSTREAM_URL": "https://eu.i.posthog.com", "HOGSEND_POSTHOG_TIMEOUT": "0s"}, "HOGSEND_POSTHOG_TIMEOUT")
	for in, assets := range map[string]string{
		"https://eu.i.posthog.com":     "https://eu-assets.i.posthog.com",
		"https://us.i.posthog.com/":    "https://us-assets.i.posthog.com/",
		"http://posthog.internal:8000": "http://posthog.internal:8000",
	} {
		c, err := Load(env(map[string]string{"HOGSEND_POSTHOG_UPSTREAM_URL": in, "HOGSEND_POSTHOG_TOKENS": "phc_a,phc_b"}))
		if err != nil || c.PostHogAssetsURL != assets || c.PostHogMirrorToken != "phc_a" {
			t.Fatalf("%s: assets %q token %q, %v; want %q and the first token", in, c.PostHogAssetsURL, c.PostHogMirrorToken, err, assets)
		}
	}
	f(map[string]string{"HOGSEND_UPSTREAM_SYNC_TIMEOUT": "0s"}, "HOGSEND_UPSTREAM_SYNC_TIMEOUT")
	f(map[string]string{"HOGSEND_UPSTREAM_CONCURRENCY": "0"}, "HOGSEND_UPSTREAM_CONCURRENCY")
	f(map[string]string{"HOGSEND_UPSTREAM_API_KEY": "hsk_x"}, "HOGSEND_UPSTREAM_API_KEY")
	if c, err := Load(env(map[string]string{"HOGSEND_UPSTREAM_URL": "http://e:1", "HOGSEND_UPSTREAM_API_KEY": "hsk_x", "HOGSEND_UPSTREAM_MODE": "sync"})); err != nil ||
		!c.HandOff() || c.UpstreamMode != "sync" || c.UpstreamSyncTimeout.Seconds() != 2 || c.UpstreamConcurrency != 64 {
		t.Fatalf("a hand-off in sync mode: %+v, %v", c, err)
	}
	if c, err := Load(env(map[string]string{"HOGSEND_UPSTREAM_URL": "https://engine.example/api", "HOGSEND_UPSTREAM_TIMEOUT": "2s"})); err != nil ||
		c.UpstreamURL != "https://engine.example/api" || c.UpstreamTimeout.Seconds() != 2 {
		t.Fatalf("a good upstream: %+v, %v", c, err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(p, []byte("lisen: x\n"), 0o644)
	f(map[string]string{"HOGSEND_CONFIG": p}, `unknown key "lisen"`)
}

func TestParseBytes(t *testing.T) {
	f := func(in string, want int64) {
		t.Helper()
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Fatalf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	f("1024", 1024)
	f("512MiB", 512<<20)
	f("10GiB", 10<<30)
	f("64M", 64<<20)
	f("0", 0)
}

// TestRedisURLForms: one server, a cluster's nodes and a Sentinel set pass;
// a Sentinel set without its master's name, or a list of hosts in a plain
// redis:// URL, does not.
func TestRedisURLForms(t *testing.T) {
	for raw, ok := range map[string]bool{
		"redis://h:6379/0":                                 true,
		"rediss://u:p@h:6380/1":                            true,
		"redis+cluster://h1:6379,h2:6379,h3:6379":          true,
		"rediss+cluster://u:p@h1:6379":                     true,
		"redis+sentinel://s1:26379,s2:26379/0?master=main": true,
		"redis+sentinel://s1:26379,s2:26379/0":             false,
		"redis://h1:6379,h2:6379":                          false,
		"redis+shard://h:6379":                             false,
		"http://h:6379":                                    false,
	} {
		_, err := Load(env(map[string]string{"HOGSEND_REDIS_URL": raw, "HOGSEND_CLICKHOUSE_URL": "clickhouse://h:9000/db"}))
		if (err == nil) != ok {
			t.Errorf("HOGSEND_REDIS_URL=%s: error %v, want ok=%v", raw, err, ok)
		}
	}
	if got := RedactURL("redis+sentinel://u:pw@s1:26379,s2:26379/0?master=m&sentinel_password=spw"); strings.Contains(got, "pw@") || strings.Contains(got, "spw") {
		t.Errorf("redacted: %s", got)
	}
}
