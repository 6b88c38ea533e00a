package identity

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// APIKeys returns every stored API key (revoked and expired ones too).
func (m *Memory) APIKeys(context.Context) ([]canonical.APIKey, error) {
	m.mu.Lock()
	out := make([]canonical.APIKey, 0, len(m.apiKeys))
	for _, k := range m.apiKeys {
		k.Scopes, k.AllowedOrigins = slices.Clone(k.Scopes), slices.Clone(k.AllowedOrigins)
		out = append(out, k)
	}
	m.mu.Unlock()
	return out, nil
}

// Redis keeps the hashes of its API keys in one set, so that listing them
// does not scan the identity index. Keys written before the set existed are
// added by one scan, after which the marker key says the set is complete.
func (r *Redis) apiKeySet() string    { return r.prefix + "keys" }
func (r *Redis) apiKeyMarker() string { return r.prefix + "keys:indexed" }

// APIKeys returns every stored API key (revoked and expired ones too).
func (r *Redis) APIKeys(ctx context.Context) ([]canonical.APIKey, error) {
	if err := r.indexAPIKeys(ctx); err != nil {
		return nil, err
	}
	hashes, err := r.c.SMembers(ctx, r.apiKeySet()).Result()
	if err != nil {
		return nil, unavailable("list api keys", err)
	}
	p := r.c.Pipeline()
	cmds := make([]*redis.SliceCmd, len(hashes))
	for i, h := range hashes {
		cmds[i] = p.HMGet(ctx, r.prefix+"k:"+h, apiKeyFields...)
	}
	if len(hashes) > 0 {
		if _, err := p.Exec(ctx); err != nil {
			return nil, unavailable("list api keys", err)
		}
	}
	out := make([]canonical.APIKey, 0, len(hashes))
	for _, c := range cmds {
		if k, ok := parseAPIKey(c.Val()); ok {
			out = append(out, k)
		}
	}
	return out, nil
}

// indexAPIKeys adds the keys stored before the set existed, once.
func (r *Redis) indexAPIKeys(ctx context.Context) error {
	n, err := r.c.Exists(ctx, r.apiKeyMarker()).Result()
	if err != nil {
		return unavailable("list api keys", err)
	}
	if n == 1 {
		return nil
	}
	iter := r.c.ScanType(ctx, 0, r.prefix+"k:*", 1000, "hash").Iterator()
	var hashes []any
	for iter.Next(ctx) {
		hashes = append(hashes, strings.TrimPrefix(iter.Val(), r.prefix+"k:"))
	}
	if err := iter.Err(); err != nil {
		return unavailable("index api keys", err)
	}
	_, err = r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if len(hashes) > 0 {
			p.SAdd(ctx, r.apiKeySet(), hashes...)
		}
		p.Set(ctx, r.apiKeyMarker(), "1", 0)
		return nil
	})
	if err != nil {
		return unavailable("index api keys", err)
	}
	return nil
}

// parseAPIKey reads an HMGET of apiKeyFields; ok is false for a missing key.
func parseAPIKey(v []any) (canonical.APIKey, bool) {
	if len(v) != len(apiKeyFields) || v[0] == nil {
		return canonical.APIKey{}, false
	}
	s := func(i int) string { x, _ := v[i].(string); return x }
	n := func(i int) int64 { x, _ := strconv.ParseInt(s(i), 10, 64); return x }
	k := canonical.APIKey{
		Hash: s(0), Prefix: s(1), Name: s(2),
		CreatedAt: n(4), ExpiresAt: n(5), RevokedAt: n(6),
	}
	if sc := s(3); sc != "" {
		k.Scopes = strings.Split(sc, ",")
	}
	if o := s(7); o != "" {
		k.AllowedOrigins = strings.Split(o, " ")
	}
	return k, true
}

// apiKeysInVersionOrder sorts a snapshot's key rows oldest first (a row's
// version is its latest change, creation or revocation, as in ClickHouse),
// so that applying them in order leaves the latest state of each key: a
// revocation is never undone by the creation row replayed after it.
func apiKeysInVersionOrder(keys []canonical.APIKey) []canonical.APIKey {
	out := slices.Clone(keys)
	slices.SortStableFunc(out, func(a, b canonical.APIKey) int {
		return cmp.Compare(max(a.CreatedAt, a.RevokedAt), max(b.CreatedAt, b.RevokedAt))
	})
	return out
}
