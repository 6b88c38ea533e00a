// Package apikeys mints, hashes, finds and revokes the API keys of the
// native API, and checks the userTokens a publishable (pk_) key's caller
// presents. It holds no state: keys are stored by the identity store.
package apikeys

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// ErrAPIKeyNotFound: no stored key has the id, prefix or secret given.
var ErrNotFound = errors.New("API key not found")

// ID is a key's public id, as POST /v1/admin/api-keys answers it: the
// first 16 hex digits of its hash.
func ID(k *canonical.APIKey) string { return k.Hash[:min(16, len(k.Hash))] }

// Find picks the key ref names: its id, its prefix (hsk_xxxx, pk_xxxxx)
// or the whole secret. A prefix two keys share names neither.
func Find(keys []canonical.APIKey, ref string) (canonical.APIKey, error) {
	hash := Hash(ref)
	var hits []canonical.APIKey
	for _, k := range keys {
		if ref != "" && (ID(&k) == ref || k.Prefix == ref || k.Hash == hash) {
			hits = append(hits, k)
		}
	}
	switch len(hits) {
	case 0:
		return canonical.APIKey{}, ErrNotFound
	case 1:
		return hits[0], nil
	}
	ids := make([]string, len(hits))
	for i := range hits {
		ids[i] = ID(&hits[i])
	}
	return canonical.APIKey{}, fmt.Errorf("%q names %d keys (ids %s): give the id", ref, len(hits), strings.Join(ids, ", "))
}

// Sort orders keys by creation time, then id.
func Sort(keys []canonical.APIKey) {
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
