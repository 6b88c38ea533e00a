package identity

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisURL is HOGSEND_REDIS_URL parsed; exactly one of its option sets is
// set. Three forms (docs/redis-cluster.md § 1):
//
//	redis://[user:password@]host:port/db          one server (rediss:// for TLS)
//	redis+cluster://[user:password@]h1:p1,h2:p2   a Redis Cluster, any of its nodes
//	redis+sentinel://[user:password@]s1:p1,s2:p2/db?master=name[&sentinel_password=…]
//
// Every client of that URL (the store, rebuild-identity, the load benchmark)
// is made by NewClient, so all see one deployment the same way.
type RedisURL struct {
	Single   *redis.Options
	Cluster  *redis.ClusterOptions
	Failover *redis.FailoverOptions
}

// ParseRedisURL reads one of the three forms.
func ParseRedisURL(raw string) (RedisURL, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return RedisURL{}, fmt.Errorf("redis url: no scheme")
	}
	base, kind, _ := strings.Cut(scheme, "+")
	if base != "redis" && base != "rediss" {
		return RedisURL{}, fmt.Errorf("redis url: scheme %q is not redis, rediss, redis+cluster or redis+sentinel", scheme)
	}
	switch kind {
	case "":
		o, err := redis.ParseURL(raw)
		if err != nil {
			return RedisURL{}, fmt.Errorf("redis url: %w", err)
		}
		return RedisURL{Single: o}, nil
	case "cluster":
		return parseClusterURL(base, rest)
	case "sentinel":
		return parseSentinelURL(base, rest)
	}
	return RedisURL{}, fmt.Errorf("redis url: scheme %q: unknown kind %q", scheme, kind)
}

// listURL is a URL whose host part is a comma-separated list of host:port.
type listURL struct {
	user  string // "user:password@" as written, or ""
	hosts []string
	path  string
	query url.Values
}

func splitListURL(rest string) (listURL, error) {
	var u listURL
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		u.user, rest = rest[:at+1], rest[at+1:]
	}
	hosts, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		hosts, tail = rest[:i], rest[i:]
	}
	path, rawQuery, _ := strings.Cut(tail, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return u, fmt.Errorf("redis url: query: %w", err)
	}
	u.path, u.query = path, q
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			u.hosts = append(u.hosts, h)
		}
	}
	if len(u.hosts) == 0 {
		return u, fmt.Errorf("redis url: no host")
	}
	return u, nil
}

// goRedisURL is the single-host form go-redis parses, the other hosts as
// addr parameters.
func (u listURL) goRedisURL(base, userinfo string) string {
	q := url.Values{}
	for k, v := range u.query {
		q[k] = v
	}
	for _, h := range u.hosts[1:] {
		q.Add("addr", h)
	}
	s := base + "://" + userinfo + u.hosts[0] + u.path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

func parseClusterURL(base, rest string) (RedisURL, error) {
	u, err := splitListURL(rest)
	if err != nil {
		return RedisURL{}, err
	}
	if u.path != "" && u.path != "/" && u.path != "/0" {
		return RedisURL{}, fmt.Errorf("redis url: a cluster has database 0 only, not %q", u.path)
	}
	u.path = ""
	o, err := redis.ParseClusterURL(u.goRedisURL(base, u.user))
	if err != nil {
		return RedisURL{}, fmt.Errorf("redis cluster url: %w", err)
	}
	return RedisURL{Cluster: o}, nil
}

// parseSentinelURL maps our form onto go-redis's, where the URL's user is
// the Sentinels' and the master's credentials are parameters: here, as in
// redis://, the user is the master's, and the Sentinels' are parameters.
func parseSentinelURL(base, rest string) (RedisURL, error) {
	u, err := splitListURL(rest)
	if err != nil {
		return RedisURL{}, err
	}
	master := u.query.Get("master")
	if master == "" {
		return RedisURL{}, fmt.Errorf("redis sentinel url: no master=<name> parameter")
	}
	u.query.Del("master")
	u.query.Set("master_name", master)
	if u.user != "" {
		info, err := url.Parse("redis://" + u.user + "x")
		if err != nil {
			return RedisURL{}, fmt.Errorf("redis sentinel url: user: %w", err)
		}
		pw, _ := info.User.Password()
		u.query.Set("username", info.User.Username())
		u.query.Set("password", pw)
	}
	sentinelUser := ""
	if su, sp := u.query.Get("sentinel_username"), u.query.Get("sentinel_password"); su != "" || sp != "" {
		sentinelUser = url.UserPassword(su, sp).String() + "@"
	}
	u.query.Del("sentinel_username")
	u.query.Del("sentinel_password")
	o, err := redis.ParseFailoverURL(u.goRedisURL(base, sentinelUser))
	if err != nil {
		return RedisURL{}, fmt.Errorf("redis sentinel url: %w", err)
	}
	return RedisURL{Failover: o}, nil
}

// IsCluster reports a Redis Cluster.
func (u RedisURL) IsCluster() bool { return u.Cluster != nil }

// clientSettings points at the fields the three option kinds share, so
// that the store sets them once whatever the URL's kind.
type clientSettings struct {
	contextTimeout            *bool
	maxRetries, dialerRetries *int
	readTimeout, writeTimeout *time.Duration
	onConnect                 *func(context.Context, *redis.Conn) error
	protocol                  *int
}

func (u RedisURL) settings() clientSettings {
	switch {
	case u.Cluster != nil:
		o := u.Cluster
		return clientSettings{&o.ContextTimeoutEnabled, &o.MaxRetries, &o.DialerRetries, &o.ReadTimeout, &o.WriteTimeout, &o.OnConnect, &o.Protocol}
	case u.Failover != nil:
		o := u.Failover
		return clientSettings{&o.ContextTimeoutEnabled, &o.MaxRetries, &o.DialerRetries, &o.ReadTimeout, &o.WriteTimeout, &o.OnConnect, &o.Protocol}
	}
	o := u.Single
	return clientSettings{&o.ContextTimeoutEnabled, &o.MaxRetries, &o.DialerRetries, &o.ReadTimeout, &o.WriteTimeout, &o.OnConnect, &o.Protocol}
}

// NewClient makes the client of the URL.
func (u RedisURL) NewClient() redis.UniversalClient {
	switch {
	case u.Cluster != nil:
		return redis.NewClusterClient(u.Cluster)
	case u.Failover != nil:
		return redis.NewFailoverClient(u.Failover)
	}
	return redis.NewClient(u.Single)
}
