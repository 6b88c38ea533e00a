package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

var _ Store = (*Redis)(nil)

// Redis is the production identity store. Every Resolve op, Find and Delete is
// one Lua script, so it is atomic per key; a Resolve call sends all its ops in
// one pipeline. The key layout is described in docs/redis-layout.md.
//
// It runs on one server, a Sentinel set or a Redis Cluster: the identity
// graph's keys share one hash tag, so every script's keys are in one slot,
// and each idempotency claim is a key (or bucket) of its own slot
// (docs/redis-cluster.md § 2).
type Redis struct {
	c      redis.UniversalClient
	prefix string
	// graph is the prefix of the identity graph's keys: prefix and the
	// graph's hash tag; graphSeq is the KEYS of every graph script.
	graph    string
	graphSeq []string
	// checked is set once a connection has passed checkConn; until then
	// every new connection is checked.
	checked atomic.Bool
	// cluster: a Redis Cluster, where a connection holds only its node's slots.
	cluster bool
	// cache holds copies of resolved contacts for touches (redis_touch.go);
	// nil when disabled.
	cache *contactCache
	// touches counts the touches run; staleTouches those that found their
	// copy stale.
	touches, staleTouches atomic.Uint64
}

// RedisOption configures NewRedis.
type RedisOption func(*redisConfig)

type redisConfig struct {
	prefix         string
	cacheBytes     int
	readTimeout    time.Duration
	writeTimeout   time.Duration
	allowOldLayout bool
}

// WithKeyPrefix sets the prefix of every key (default "hs:"), so that several
// deployments or tests can share one Redis.
func WithKeyPrefix(p string) RedisOption {
	return func(c *redisConfig) { c.prefix = p }
}

// WithRedisTimeouts overrides the client's read and write timeouts.
func WithRedisTimeouts(read, write time.Duration) RedisOption {
	return func(c *redisConfig) { c.readTimeout, c.writeTimeout = read, write }
}

// WithContactCache keeps copies of resolved contacts, up to about maxBytes,
// so that an op that changes nothing but last_seen costs a touch instead of
// a full resolve (docs/redis-layout.md § 4); 0 disables it.
func WithContactCache(maxBytes int) RedisOption {
	return func(c *redisConfig) { c.cacheBytes = maxBytes }
}

// WithOldLayout opens a Redis that still holds the graph under the key names
// before hash tags (errOldLayout), for rebuild-identity, which flushes it.
func WithOldLayout() RedisOption {
	return func(c *redisConfig) { c.allowOldLayout = true }
}

// graphTag is the hash tag of the identity graph's keys (docs/redis-cluster.md § 2).
const graphTag = "{g}:"

// errOldLayout marks a Redis whose graph keys predate the hash tag.
var errOldLayout = errors.New("Redis holds identity keys in the layout before Redis Cluster support: run `hogsend-proxy rebuild-identity` once (docs/redis-cluster.md § 4)")

// errTooOld marks a server the store cannot run on.
var errTooOld = errors.New("Redis 7.0 or later is required")

// NewRedis returns a store on url (redis://…). The first connection that
// reaches Redis checks its version and loads the scripts, so a Redis that is
// not up yet is no error: until it answers, every call fails with
// ErrUnavailable, as when it drops later. A Redis that answers and refuses
// (too old, a wrong password or database) is an error.
func NewRedis(ctx context.Context, url string, opts ...RedisOption) (*Redis, error) {
	cfg := redisConfig{prefix: "hs:"}
	for _, o := range opts {
		o(&cfg)
	}
	u, err := ParseRedisURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	set := u.settings()
	// Request deadlines must bound every call, or a dead Redis stalls requests
	// for the library's own read timeout.
	*set.contextTimeout = true
	// No library retries unless the URL asks for them: a resent pipeline would
	// apply ops twice, and the replay would see its own idempotency claim and
	// report it pending.
	if *set.maxRetries == 0 {
		*set.maxRetries = -1
	}
	// Five dial attempts 100 ms apart (the default) hold every request for half
	// a second while Redis is down; fail over to the caller's 503 sooner.
	if *set.dialerRetries == 0 {
		*set.dialerRetries = 2
	}
	// A cluster client re-sends a pipeline whose answer it lost up to
	// MaxRedirects times, as the single client would with MaxRetries: none.
	// A MOVED answer (slots being moved) then fails its call with a 503
	// and reloads the slot map for the next (docs/redis-cluster.md § 3).
	if u.Cluster != nil && u.Cluster.MaxRedirects == 0 {
		u.Cluster.MaxRedirects = -1
	}
	// RESP2 unless the URL asks for 3: the store uses nothing RESP3 adds,
	// and a RESP3 client looks for push notifications before every reply.
	if *set.protocol == 0 {
		*set.protocol = 2
	}
	if cfg.readTimeout > 0 {
		*set.readTimeout, *set.writeTimeout = cfg.readTimeout, cfg.writeTimeout
	}
	graph := cfg.prefix + graphTag
	r := &Redis{prefix: cfg.prefix, graph: graph, graphSeq: []string{graph + "seq"}, cluster: u.IsCluster()}
	if cfg.cacheBytes > 0 {
		var err error
		if r.cache, err = newContactCache(cfg.cacheBytes); err != nil {
			return nil, err
		}
	}
	*set.onConnect = r.checkConn(*set.onConnect, cfg.allowOldLayout)
	r.c = u.NewClient()
	if cc, ok := r.c.(*redis.ClusterClient); ok {
		cc.AddHook(reloadOnFailure{cc})
	}
	if err := r.c.Ping(ctx).Err(); err != nil && refused(err) {
		r.c.Close()
		return nil, fmt.Errorf("connect identity redis: %w", err)
	}
	return r, nil
}

// checkConn wraps the client's OnConnect hook: until one connection has
// passed, each new one checks the server's version and loads the scripts
// (which EVALSHA's NOSCRIPT fallback would otherwise load one call at a time).
func (r *Redis) checkConn(next func(context.Context, *redis.Conn) error, allowOldLayout bool) func(context.Context, *redis.Conn) error {
	return func(ctx context.Context, cn *redis.Conn) error {
		if next != nil {
			if err := next(ctx, cn); err != nil {
				return err
			}
		}
		if r.checked.Load() {
			return nil
		}
		sentinel, err := checkVersion(ctx, cn)
		if err != nil || sentinel {
			// A Sentinel client runs this hook on its Sentinel connections too.
			return err
		}
		if !allowOldLayout && !r.cluster {
			if err := r.checkLayout(ctx, cn); err != nil {
				return err
			}
		}
		if err := loadScripts(ctx, cn); err != nil {
			return err
		}
		r.checked.Store(true)
		return nil
	}
}

// refused reports an answer from Redis that waiting will not change: a
// server too old, or an error reply to the connection's handshake (AUTH,
// SELECT), as opposed to a connection failure or a server still loading.
func refused(err error) bool {
	if errors.Is(err, errTooOld) || errors.Is(err, errOldLayout) {
		return true
	}
	if !isReplyError(err) {
		return false
	}
	for _, p := range []string{"ERR", "NOAUTH", "WRONGPASS", "NOPERM"} {
		if strings.HasPrefix(err.Error(), p) {
			return true
		}
	}
	return false
}

// checkVersion refuses a server older than Redis 7.0, whose EXPIRE lacks
// the NX and GT options that keep claim buckets expiring (claim_slot.go):
// without them every bucket would be kept for ever. It reports a Sentinel,
// which holds no data and is not checked.
func checkVersion(ctx context.Context, c redis.Cmdable) (sentinel bool, err error) {
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return false, unavailable("read server version", err)
	}
	version := ""
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "redis_version:"); ok {
			version = v
		}
		if line == "redis_mode:sentinel" {
			sentinel = true
		}
	}
	if !versionAtLeast7(version) {
		return false, fmt.Errorf("redis_version %q: %w", version, errTooOld)
	}
	return sentinel, nil
}

// versionAtLeast7 reports whether a redis_version string is 7.0 or later.
func versionAtLeast7(v string) bool {
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 7
}

// checkLayout refuses a server whose graph is still under the key names
// before hash tags: its version counter is there, the tagged one is not. A
// cluster never held that layout; a connection there serves some slots only.
func (r *Redis) checkLayout(ctx context.Context, c redis.Cmdable) error {
	old, err := c.Exists(ctx, r.prefix+"seq").Result()
	if err != nil {
		return unavailable("check key layout", err)
	}
	if old == 0 {
		return nil
	}
	tagged, err := c.Exists(ctx, r.graph+"seq").Result()
	if err != nil {
		return unavailable("check key layout", err)
	}
	if tagged == 0 {
		return fmt.Errorf("prefix %q: %w", r.prefix, errOldLayout)
	}
	return nil
}

// Client exposes the underlying client (health checks, tests).
func (r *Redis) Client() redis.UniversalClient { return r.c }

// Ping reports whether Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Close closes the connection pool.
func (r *Redis) Close() error { return r.c.Close() }

// ReleaseIdempotency forgets claimed keys.
func (r *Redis) ReleaseIdempotency(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	// One DEL a key: claim keys are in slots of their own on a cluster.
	p := r.c.Pipeline()
	for _, k := range keys {
		if slot := claimSlotOf(r.prefix, k); slot.field != "" {
			p.HDel(ctx, slot.key, slot.field)
		} else {
			p.Del(ctx, slot.key)
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		return unavailable("release idempotency keys", err)
	}
	return nil
}

// ConfirmIdempotency marks claims confirmed for window, in one round trip.
func (r *Redis) ConfirmIdempotency(ctx context.Context, keys, tickets []string, window time.Duration) error {
	if len(keys) == 0 && len(tickets) == 0 {
		return nil
	}
	if window <= 0 {
		window = DefaultIdempotencyWindow
	}
	// Plain commands in one pipeline: cheaper for Redis than the same
	// writes issued from a script. A ticket outlives the claims it confirms,
	// which were written before it with the same window; a bucket is kept as
	// claimSlot.bucketExpiry says.
	p := r.c.Pipeline()
	wall, windowMs := time.Now().UnixMilli(), max(window.Milliseconds(), 1)
	var buckets map[string]bucketExpiry
	for _, k := range keys {
		slot := claimSlotOf(r.prefix, k)
		if slot.field == "" {
			p.Set(ctx, slot.key, "1", window)
			continue
		}
		p.HSet(ctx, slot.key, slot.field, "1")
		if buckets == nil {
			buckets = make(map[string]bucketExpiry, 1)
		}
		buckets[slot.key] = buckets[slot.key].later(slot.bucketExpiry(wall, windowMs))
	}
	expireBuckets(ctx, p, buckets)
	for _, t := range tickets {
		p.Set(ctx, r.prefix+"t:"+t, "1", window)
	}
	if _, err := p.Exec(ctx); err != nil {
		return unavailable("confirm idempotency keys", err)
	}
	return nil
}

// Find returns the live contacts matching email or userID.
func (r *Redis) Find(ctx context.Context, email, userID string) ([]canonical.Contact, error) {
	v, err := scriptFind.run(ctx, r.c, r.graphKeys(), r.graph, NormalizeEmail(email), NormalizeID(userID))
	if err != nil {
		return nil, err
	}
	rd := replyReader{a: asSlice(v)}
	n := rd.count()
	var out []canonical.Contact
	for range n {
		var c canonical.Contact
		rd.contact(&c)
		out = append(out, c)
	}
	if rd.err != nil {
		return nil, fmt.Errorf("find: %w", rd.err)
	}
	return out, nil
}

// Delete soft-deletes the contacts Find would return and drops their aliases.
func (r *Redis) Delete(ctx context.Context, email, userID string, now int64) ([]canonical.Contact, []canonical.Alias, error) {
	if now == 0 {
		now = time.Now().UnixMilli()
	}
	v, err := scriptDelete.run(ctx, r.c, r.graphKeys(), r.graph, NormalizeEmail(email), NormalizeID(userID), now)
	if err != nil {
		return nil, nil, err
	}
	rd := replyReader{a: asSlice(v)}
	var contacts []canonical.Contact
	for range rd.count() {
		var c canonical.Contact
		rd.contact(&c)
		contacts = append(contacts, c)
	}
	var tombs []canonical.Alias
	for range rd.count() {
		a := canonical.Alias{Kind: rd.str(), Value: rd.str(), Deleted: true, At: now}
		a.ContactID = rd.uuid()
		if len(contacts) > 0 {
			a.Version = contacts[0].Version
		}
		tombs = append(tombs, a)
	}
	if rd.err != nil {
		return nil, nil, fmt.Errorf("delete: %w", rd.err)
	}
	return contacts, tombs, nil
}

// API keys are plain hashes; scopes are joined with commas (scope names are
// identifiers and never contain one).
// Allowed origins are joined with spaces, which an origin cannot contain.
var apiKeyFields = []string{"hash", "prefix", "name", "scopes", "created", "expires", "revoked", "origins"}

// PutAPIKey stores or replaces an API key.
func (r *Redis) PutAPIKey(ctx context.Context, k canonical.APIKey) error {
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, r.graph+"k:"+k.Hash,
			"hash", k.Hash, "prefix", k.Prefix, "name", k.Name, "scopes", strings.Join(k.Scopes, ","),
			"created", k.CreatedAt, "expires", k.ExpiresAt, "revoked", k.RevokedAt,
			"origins", strings.Join(k.AllowedOrigins, " "))
		p.SAdd(ctx, r.apiKeySet(), k.Hash)
		return nil
	})
	if err != nil {
		return unavailable("put api key", err)
	}
	return nil
}

// APIKey looks a key up by hash.
func (r *Redis) APIKey(ctx context.Context, hash string) (canonical.APIKey, bool, error) {
	v, err := r.c.HMGet(ctx, r.graph+"k:"+hash, apiKeyFields...).Result()
	if err != nil {
		return canonical.APIKey{}, false, unavailable("get api key", err)
	}
	k, ok := parseAPIKey(v)
	return k, ok, nil
}

// TouchCounts are the touches run so far and how many of them found their
// copy stale (and resolved in full).
func (r *Redis) TouchCounts() (touches, stale uint64) {
	return r.touches.Load(), r.staleTouches.Load()
}

// graphKeys is the KEYS of a graph script: the graph's counter, which
// names the graph's slot so that a cluster client sends the script there;
// the script builds its other key names under the same hash tag. Callers
// must not change it.
func (r *Redis) graphKeys() []string { return r.graphSeq }

// Prefix is the prefix of every key this store writes.
func (r *Redis) Prefix() string { return r.prefix }
