package linkedin

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

const (
	// MaxAge is LinkedIn's window for conversionHappenedAt (docs/contracts/ad-platforms.md §5.2).
	MaxAge = 90 * 24 * time.Hour
	// maxEventIDLen is LinkedIn's limit on eventId; DedupID is 64 hex.
	maxEventIDLen = 64
)

// checkConversion refuses, before anything is sent, what LinkedIn would
// refuse for good (docs/contracts/ad-platforms.md §1.3): retrying it could never succeed, and sending
// it in a batch would make LinkedIn refuse the whole batch.
func checkConversion(c *conversions.Conversion, now time.Time) error {
	if c.Consent == conversions.ConsentDenied {
		// The dispatcher filters these; this is the last line of defence.
		return errors.New("consent: denied, not sent")
	}
	if c.DedupID == "" {
		return errors.New("dedup_id: required (LinkedIn eventId)")
	}
	if strings.EqualFold(c.DedupID, hashing.EmptyDigest) {
		// A digest of nothing: the id was computed from empty inputs.
		return errors.New("dedup_id: is sha256 of the empty string")
	}
	if len(c.DedupID) > maxEventIDLen {
		return fmt.Errorf("dedup_id: %d characters, LinkedIn eventId takes at most %d", len(c.DedupID), maxEventIDLen)
	}
	if c.OccurredAt.IsZero() {
		return errors.New("occurred_at: required")
	}
	if age := now.Sub(c.OccurredAt); age > MaxAge {
		return fmt.Errorf("occurred_at: %s is older than LinkedIn's 90-day window", c.OccurredAt.UTC().Format(time.RFC3339))
	}
	if c.HasValue {
		if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) || c.Value < 0 {
			return fmt.Errorf("value: %v is not a non-negative amount", c.Value)
		}
		if !conversions.ValidCurrency(normCurrency(c.Currency)) {
			// Guessing a currency would report a wrong amount; refuse.
			return fmt.Errorf("currency: %q is not an ISO 4217 code", c.Currency)
		}
	}
	return nil
}

func normCurrency(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// upperLetters reports whether s is exactly n ASCII upper-case letters.
func upperLetters(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
