package identity

import (
	"slices"
	"testing"
)

// TestParseRedisURL: each form gives its go-redis options, with the user of
// a Sentinel URL as the master's and sentinel_* as the Sentinels'.
func TestParseRedisURL(t *testing.T) {
	u, err := ParseRedisURL("redis://u:p@h:6379/2")
	if err != nil || u.Single == nil || u.Single.Addr != "h:6379" || u.Single.DB != 2 || u.Single.Password != "p" {
		t.Fatalf("single: %+v %v", u.Single, err)
	}
	u, err = ParseRedisURL("redis+cluster://u:p@h1:7000,h2:7001,h3:7002?dial_timeout=2")
	if err != nil || u.Cluster == nil || !slices.Equal(u.Cluster.Addrs, []string{"h1:7000", "h2:7001", "h3:7002"}) ||
		u.Cluster.Username != "u" || u.Cluster.Password != "p" || u.Cluster.DialTimeout.Seconds() != 2 {
		t.Fatalf("cluster: %+v %v", u.Cluster, err)
	}
	u, err = ParseRedisURL("redis+sentinel://:mpw@s1:26379,s2:26380/3?master=main&sentinel_password=spw")
	if err != nil || u.Failover == nil {
		t.Fatalf("sentinel: %v", err)
	}
	f := u.Failover
	if f.MasterName != "main" || !slices.Equal(f.SentinelAddrs, []string{"s1:26379", "s2:26380"}) || f.DB != 3 ||
		f.Password != "mpw" || f.SentinelPassword != "spw" {
		t.Fatalf("sentinel: %+v", f)
	}
	for _, bad := range []string{"redis+sentinel://s1:26379/0", "redis+cluster://h:1/4", "http://h:1", "redis+x://h:1", "redis+cluster://"} {
		if _, err := ParseRedisURL(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
