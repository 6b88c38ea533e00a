package ingest

import (
	"context"
	"fmt"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// CreateAPIKey mints and stores a key on a running service.
func (in *Ingestor) CreateAPIKey(ctx context.Context, name string, scopes []string, expiresAt int64, allowedOrigins []string) (string, canonical.APIKey, error) {
	key, rec, err := apikeys.Mint(name, scopes, expiresAt, in.now().UnixMilli(), allowedOrigins)
	if err != nil {
		return "", rec, err
	}
	if err := in.store.PutAPIKey(ctx, rec); err != nil {
		return "", rec, storeDown("create api key", err)
	}
	if err := in.commit(ctx, &canonical.Batch{APIKeys: []canonical.APIKey{rec}}); err != nil {
		return "", rec, err
	}
	return key, rec, nil
}

// APIKey looks a key up by its hash.
func (in *Ingestor) APIKey(ctx context.Context, hash string) (canonical.APIKey, bool, error) {
	return in.store.APIKey(ctx, hash)
}

// ListAPIKeys returns the stored keys, oldest first.
func (in *Ingestor) ListAPIKeys(ctx context.Context) ([]canonical.APIKey, error) {
	keys, err := in.store.APIKeys(ctx)
	if err != nil {
		return nil, storeDown("list api keys", err)
	}
	apikeys.Sort(keys)
	return keys, nil
}

// RevokeAPIKey revokes the key ref names (apikeys.Find) on a running service:
// in the store at once, then durably through the journal, as CreateAPIKey
// makes a key durable, so a rebuild restores it revoked. Revoking a revoked
// key writes its row again (a retry after a failed journal write must still
// reach ClickHouse) and keeps its first revocation time.
func (in *Ingestor) RevokeAPIKey(ctx context.Context, ref string) (canonical.APIKey, error) {
	keys, err := in.store.APIKeys(ctx)
	if err != nil {
		return canonical.APIKey{}, storeDown("revoke api key", err)
	}
	k, err := apikeys.Find(keys, ref)
	if err != nil {
		return k, err
	}
	if apikeys.Revoke(&k, in.now().UnixMilli()) {
		if err := in.store.PutAPIKey(ctx, k); err != nil {
			return k, storeDown("revoke api key", err)
		}
	}
	if err := in.commit(ctx, &canonical.Batch{APIKeys: []canonical.APIKey{k}}); err != nil {
		return k, fmt.Errorf("revoke api key: %w", err)
	}
	return k, nil
}
