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
// one pipeline. The key layout is described in lua/lib.lua.
//
// The scripts touch keys they discover (alias → contact), so they are not
// Redis Cluster safe; use a single primary (with replicas) per deployment.
type Redis struct {
	c      *redis.Client
	prefix string
	// checked is set once a connection has passed checkConn; until then
	// every new connection is checked.
	checked atomic.Bool
}

// RedisOption configures NewRedis.
type RedisOption func(*redisConfig)

type redisConfig struct {
	prefix string
	tune   []func(*redis.Options)
}

// WithKeyPrefix sets the prefix of every key (default "hs:"), so that several
// deployments or tests can share one Redis.
func WithKeyPrefix(p string) RedisOption {
	return func(c *redisConfig) { c.prefix = p }
}

// WithRedisOptions adjusts the go-redis client options parsed from the URL.
func WithRedisOptions(f func(*redis.Options)) RedisOption {
	return func(c *redisConfig) { c.tune = append(c.tune, f) }
}

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
	ro, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	// Request deadlines must bound every call, or a dead Redis stalls requests
	// for the library's own read timeout.
	ro.ContextTimeoutEnabled = true
	// No library retries unless the URL asks for them: a resent pipeline would
	// apply ops twice, and the replay would see its own idempotency claim and
	// report a duplicate.
	if ro.MaxRetries == 0 {
		ro.MaxRetries = -1
	}
	// Five dial attempts 100 ms apart (the default) hold every request for half
	// a second while Redis is down; fail over to the caller's 503 sooner.
	if ro.DialerRetries == 0 {
		ro.DialerRetries = 2
	}
	for _, f := range cfg.tune {
		f(ro)
	}
	r := &Redis{prefix: cfg.prefix}
	ro.OnConnect = r.checkConn(ro.OnConnect)
	r.c = redis.NewClient(ro)
	if err := r.c.Ping(ctx).Err(); err != nil && refused(err) {
		r.c.Close()
		return nil, fmt.Errorf("connect identity redis: %w", err)
	}
	return r, nil
}

// checkConn wraps the client's OnConnect hook: until one connection has
// passed, each new one checks the server's version and loads the scripts
// (which EVALSHA's NOSCRIPT fallback would otherwise load one call at a time).
func (r *Redis) checkConn(next func(context.Context, *redis.Conn) error) func(context.Context, *redis.Conn) error {
	return func(ctx context.Context, cn *redis.Conn) error {
		if next != nil {
			if err := next(ctx, cn); err != nil {
				return err
			}
		}
		if r.checked.Load() {
			return nil
		}
		if err := checkVersion(ctx, cn); err != nil {
			return err
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
	if errors.Is(err, errTooOld) {
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
// without them every bucket would be kept for ever.
func checkVersion(ctx context.Context, c redis.Cmdable) error {
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return unavailable("read server version", err)
	}
	version := ""
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			version = v
		}
	}
	if !versionAtLeast7(version) {
		return fmt.Errorf("redis_version %q: %w", version, errTooOld)
	}
	return nil
}

// versionAtLeast7 reports whether a redis_version string is 7.0 or later.
func versionAtLeast7(v string) bool {
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 7
}

// Client exposes the underlying client (health checks, tests).
func (r *Redis) Client() *redis.Client { return r.c }

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
	p := r.c.Pipeline()
	var plain []string
	for _, k := range keys {
		if slot := claimSlotOf(r.prefix, k); slot.field != "" {
			p.HDel(ctx, slot.key, slot.field)
		} else {
			plain = append(plain, slot.key)
		}
	}
	if len(plain) > 0 {
		p.Del(ctx, plain...)
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
	v, err := scriptFind.run(ctx, r.c, r.prefix, NormalizeEmail(email), NormalizeID(userID))
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
	v, err := scriptDelete.run(ctx, r.c, r.prefix, NormalizeEmail(email), NormalizeID(userID), now)
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
		p.HSet(ctx, r.prefix+"k:"+k.Hash,
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
	v, err := r.c.HMGet(ctx, r.prefix+"k:"+hash, apiKeyFields...).Result()
	if err != nil {
		return canonical.APIKey{}, false, unavailable("get api key", err)
	}
	k, ok := parseAPIKey(v)
	return k, ok, nil
}

// Prefix is the prefix of every key this store writes.
func (r *Redis) Prefix() string { return r.prefix }
