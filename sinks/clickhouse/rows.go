package clickhouse

import (
	"math"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Storable time range: DateTime (the old servers' type) holds 1970 to 2106,
// and clickhouse-go refuses values outside [1970-01-01, 2105-12-31 23:59:59].
const (
	minStoredMillis = 0
	maxStoredMillis = 4291747199000
)

// clampMillis maps a canonical Unix-ms time into the storable range; 0
// (unset) stays the epoch.
func clampMillis(ms int64) int64 {
	return min(max(ms, minStoredMillis), maxStoredMillis)
}

func storedTime(ms int64) time.Time {
	return time.UnixMilli(clampMillis(ms)).UTC()
}

// roundCents rounds a value to the two decimals of Decimal(14,2).
func roundCents(v float64) float64 {
	return math.Round(v*100) / 100
}

func boolUInt8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// apiKeyVersion orders API key rows: a key changes by being created and
// then, possibly, revoked, so the later of the two is the newer row.
func apiKeyVersion(k *canonical.APIKey) uint64 {
	return uint64(max(k.CreatedAt, k.RevokedAt, 0))
}

// jsonOrEmpty stores a missing JSON object as "{}".
func jsonOrEmpty(b []byte) []byte {
	if len(b) == 0 {
		return emptyObject
	}
	return b
}

var emptyObject = []byte("{}")
