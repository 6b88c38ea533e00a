package tiktok

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// maxFuture tolerates clock skew between the event's source and us; a
// conversion further in the future is a bug upstream, not a timing issue.
const maxFuture = 5 * time.Minute

// check refuses a conversion TikTok would refuse or that must not be sent
// at all (docs/contracts/ad-platforms.md §1.3: fail permanently before sending, never retry).
func check(c conversions.Conversion, now time.Time, maxAge time.Duration) error {
	switch c.Consent {
	case conversions.ConsentGranted, conversions.ConsentUnknown:
	case conversions.ConsentDenied:
		return errors.New("consent denied: not sent")
	default:
		return fmt.Errorf("consent: unknown value %q", string(c.Consent))
	}
	if strings.TrimSpace(c.EventName) == "" {
		return errors.New("event_name: required")
	}
	if strings.TrimSpace(c.DedupID) == "" {
		// event_id is TikTok's dedup key with the browser pixel.
		return errors.New("dedup_id: required")
	}
	if c.OccurredAt.IsZero() {
		return errors.New("occurred_at: required")
	}
	if age := now.Sub(c.OccurredAt); age > maxAge {
		return fmt.Errorf("occurred_at: %s is older than the %s window", c.OccurredAt.UTC().Format(time.RFC3339), maxAge)
	}
	if c.OccurredAt.Sub(now) > maxFuture {
		return fmt.Errorf("occurred_at: %s is in the future", c.OccurredAt.UTC().Format(time.RFC3339))
	}
	if c.HasValue {
		if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) || c.Value < 0 {
			return fmt.Errorf("value: %v is not a non-negative number", c.Value)
		}
		if !conversions.ValidCurrency(c.Currency) {
			return fmt.Errorf("currency: %q is not an ISO 4217 code", c.Currency)
		}
	}
	return nil
}

// hasMatchKey reports whether u carries something TikTok can attribute
// with; ip and user agent alone identify no one.
func (u *user) hasMatchKey() bool {
	return u.Email != "" || u.Phone != "" || u.ExternalID != "" || u.Ttclid != "" || u.Ttp != ""
}
