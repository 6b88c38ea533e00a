package apikeys

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// secretScopes are the scopes a secret (hsk_) key may be minted with;
// publishable keys get ingest-public only.
var secretScopes = map[string]bool{
	"read": true, "journey-admin": true, "full-admin": true, "ingest": true, "accounts": true, "referrals": true,
}

// IsSecretScope reports whether a secret key may carry scope s.
func IsSecretScope(s string) bool { return secretScopes[s] }

// Mint mints a key: "hsk_" (secret) or, with allowed origins, "pk_"
// (publishable), then base64url of 32 random bytes. Only its SHA-256 is kept.
func Mint(name string, scopes []string, expiresAt, now int64, allowedOrigins []string) (string, canonical.APIKey, error) {
	if err := CheckOrigins(allowedOrigins); err != nil {
		return "", canonical.APIKey{}, fmt.Errorf("allowed origins: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", canonical.APIKey{}, fmt.Errorf("read random bytes: %w", err)
	}
	prefix := "hsk_"
	if len(allowedOrigins) > 0 {
		prefix = "pk_"
	}
	key := prefix + base64.RawURLEncoding.EncodeToString(raw[:])
	return key, canonical.APIKey{
		Hash: Hash(key), Prefix: key[:8], Name: name, Scopes: scopes, CreatedAt: now, ExpiresAt: expiresAt,
		AllowedOrigins: allowedOrigins,
	}, nil
}

// Hash is the stored form of a key: lower-case hex SHA-256.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
