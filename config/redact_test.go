package config

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	f := func(raw, want string) {
		t.Helper()
		if got := RedactURL(raw); got != want {
			t.Fatalf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
	f("redis://:s3cret@h:6379/0", "redis://:xxxxx@h:6379/0")
	f("clickhouse://u:s3cret@h:9000/db?password=p2&secure=true", "clickhouse://u:xxxxx@h:9000/db?password=xxxxx&secure=true")
	f("clickhouse://u@h:9000/db", "clickhouse://u@h:9000/db")
	f("redis://h:6379", "redis://h:6379")
	f("::not a url", "(unparsable url)")
}

// TestValidateHidesPasswords: a refused URL is named without its password.
func TestValidateHidesPasswords(t *testing.T) {
	for _, env := range []map[string]string{
		{"HOGSEND_REDIS_URL": "http://:s3cret@h:6379", "HOGSEND_CLICKHOUSE_URL": "clickhouse://h:9000/db"},
		{"HOGSEND_REDIS_URL": "redis://h:6379", "HOGSEND_CLICKHOUSE_URL": "http://u:s3cret@h:9000/db"},
	} {
		_, err := Load(func(k string) string { return env[k] })
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("err = %v", err)
		}
	}
}
