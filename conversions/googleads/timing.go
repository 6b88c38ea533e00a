package googleads

import (
	"fmt"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

const (
	// clickMinAge: Google refuses a click younger than 6 hours
	// (TOO_RECENT_EVENT, "Retry after 6 hours have passed").
	clickMinAge = 6 * time.Hour
	// maxFutureSkew tolerates clock drift between our host and the event's
	// source; a conversion further in the future is a bad timestamp.
	maxFutureSkew = 5 * time.Minute
)

// checkTiming applies the age rules Google would apply, before sending
// (docs/contracts/ad-platforms.md §1.3): a conversion that cannot be accepted yet is Retry with the
// remaining wait, one that never can is Rejected. ok is true when the
// conversion may be sent now.
func (c *Client) checkTiming(cv conversions.Conversion, now time.Time) (o conversions.Outcome, ok bool) {
	at := cv.OccurredAt
	if at.IsZero() {
		return rejected("occurred_at: required"), false
	}
	if at.After(now.Add(maxFutureSkew)) {
		return rejected(fmt.Sprintf("occurred_at %s is in the future", at.UTC().Format(time.RFC3339))), false
	}
	if age := now.Sub(at); age > c.cfg.ClickWindow {
		return rejected(fmt.Sprintf("conversion is %s old, beyond the %s click-through window (EXPIRED_EVENT)", age.Round(time.Hour), c.cfg.ClickWindow)), false
	}
	// The click's own time is known only when the event carried it; Google
	// measures the window and the 6-hour wait from the click.
	if _, id := clickID(cv.Clicks); id != "" && !cv.Clicks.At.IsZero() {
		click := cv.Clicks.At
		if at.Before(click) {
			return rejected("conversion precedes its click (CONVERSION_PRECEDES_EVENT)"), false
		}
		if age := now.Sub(click); age > c.cfg.ClickWindow {
			return rejected(fmt.Sprintf("click is %s old, beyond the %s click-through window (EXPIRED_EVENT)", age.Round(time.Hour), c.cfg.ClickWindow)), false
		} else if age < clickMinAge {
			return conversions.Outcome{
				Class:      conversions.Retry,
				Reason:     "click is less than 6 hours old (TOO_RECENT_EVENT)",
				RetryAfter: clickMinAge - age,
			}, false
		}
	}
	return conversions.Outcome{}, true
}

func rejected(reason string) conversions.Outcome {
	return conversions.Outcome{Class: conversions.Rejected, Reason: reason}
}
