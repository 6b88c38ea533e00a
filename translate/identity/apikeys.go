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

// Redis keeps the hashes of its API keys in one set beside them, under the
// graph's hash tag, so that listing them scans nothing and a key and the set
// change together in one MULTI, on one shard of a cluster.
func (r *Redis) apiKeySet() string { return r.graph + "keys" }

// APIKeys returns every stored API key (revoked and expired ones too).
func (r *Redis) APIKeys(ctx context.Context) ([]canonical.APIKey, error) {
	hashes, err := r.c.SMembers(ctx, r.apiKeySet()).Result()
	if err != nil {
		return nil, unavailable("list api keys", err)
	}
	p := r.c.Pipeline()
	cmds := make([]*redis.SliceCmd, len(hashes))
	for i, h := range hashes {
		cmds[i] = p.HMGet(ctx, r.graph+"k:"+h, apiKeyFields...)
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
