package translate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// ErrAPIKeyNotFound: no stored key has the id, prefix or secret given.
var ErrAPIKeyNotFound = errors.New("API key not found")

// APIKeyID is a key's public id, as POST /v1/admin/api-keys answers it: the
// first 16 hex digits of its hash.
func APIKeyID(k *canonical.APIKey) string { return k.Hash[:min(16, len(k.Hash))] }

// FindAPIKey picks the key ref names: its id, its prefix (hsk_xxxx, pk_xxxxx)
// or the whole secret. A prefix two keys share names neither.
func FindAPIKey(keys []canonical.APIKey, ref string) (canonical.APIKey, error) {
	hash := HashAPIKey(ref)
	var hits []canonical.APIKey
	for _, k := range keys {
		if ref != "" && (APIKeyID(&k) == ref || k.Prefix == ref || k.Hash == hash) {
			hits = append(hits, k)
		}
	}
	switch len(hits) {
	case 0:
		return canonical.APIKey{}, ErrAPIKeyNotFound
	case 1:
		return hits[0], nil
	}
	ids := make([]string, len(hits))
	for i := range hits {
		ids[i] = APIKeyID(&hits[i])
	}
	return canonical.APIKey{}, fmt.Errorf("%q names %d keys (ids %s): give the id", ref, len(hits), strings.Join(ids, ", "))
}

// ListAPIKeys returns the stored keys, oldest first.
func (in *Ingestor) ListAPIKeys(ctx context.Context) ([]canonical.APIKey, error) {
	keys, err := in.store.APIKeys(ctx)
	if err != nil {
		return nil, storeDown("list api keys", err)
	}
	SortAPIKeys(keys)
	return keys, nil
}

// SortAPIKeys orders keys by creation time, then id.
func SortAPIKeys(keys []canonical.APIKey) {
	slices.SortFunc(keys, func(a, b canonical.APIKey) int {
		return cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.Hash, b.Hash))
	})
}

// Revoke marks k revoked now, unless it already is; it reports whether k
// changed.
func Revoke(k *canonical.APIKey, now int64) bool {
	if k.RevokedAt != 0 {
		return false
	}
	k.RevokedAt = max(now, k.CreatedAt+1)
	return true
}

// RevokeAPIKey revokes the key ref names (FindAPIKey) on a running service:
// in the store at once, then durably through the journal, as CreateAPIKey
// makes a key durable, so a rebuild restores it revoked. Revoking a revoked
// key writes its row again (a retry after a failed journal write must still
// reach ClickHouse) and keeps its first revocation time.
func (in *Ingestor) RevokeAPIKey(ctx context.Context, ref string) (canonical.APIKey, error) {
	keys, err := in.store.APIKeys(ctx)
	if err != nil {
		return canonical.APIKey{}, storeDown("revoke api key", err)
	}
	k, err := FindAPIKey(keys, ref)
	if err != nil {
		return k, err
	}
	if Revoke(&k, in.now().UnixMilli()) {
		if err := in.store.PutAPIKey(ctx, k); err != nil {
			return k, storeDown("revoke api key", err)
		}
	}
	if err := in.commit(ctx, &canonical.Batch{APIKeys: []canonical.APIKey{k}}); err != nil {
		return k, fmt.Errorf("revoke api key: %w", err)
	}
	return k, nil
}

// CheckOrigins checks a publishable key's allowed origins (CheckOrigin).
func CheckOrigins(origins []string) error {
	for _, o := range origins {
		if err := CheckOrigin(o); err != nil {
			return err
		}
	}
	return nil
}

// CheckOrigin accepts an origin as a browser sends it in the Origin header,
// which a publishable key's allow-list is compared with byte for byte:
// http or https, a host, an optional non-default port, lower case, nothing
// else. "*", "null", paths, queries and user info are refused: they either
// open the key to every site or never match.
func CheckOrigin(o string) error {
	bad := func(why string) error {
		return fmt.Errorf("%q is not an origin like https://app.example.com: %s", o, why)
	}
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return bad("unparseable")
	case u.Scheme != "https" && u.Scheme != "http":
		return bad("the scheme must be http or https")
	case u.Hostname() == "" || strings.ContainsAny(u.Host, "*, "):
		return bad("it needs one host, without wildcards")
	case o != u.Scheme+"://"+u.Host:
		return bad("only scheme://host[:port], without path, query, fragment or user info")
	case o != strings.ToLower(o):
		return bad("browsers send origins in lower case")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || p[0] == '0' {
			return bad("the port must be 1 to 65535")
		}
		if (u.Scheme == "https" && n == 443) || (u.Scheme == "http" && n == 80) {
			return bad("browsers leave the scheme's default port out")
		}
	}
	return nil
}
