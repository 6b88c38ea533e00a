package meta

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// Meta's age window (docs/contracts/ad-platforms.md §2.2): 7 days back, 62 for physical_store, and
// at most a minute ahead. One event outside it fails the whole request, so
// such a conversion is refused here instead of taking its batch down.
const (
	maxAge              = 7 * 24 * time.Hour
	maxAgePhysicalStore = 62 * 24 * time.Hour
	maxAhead            = time.Minute
)

// checkConversion refuses, before anything is built, a conversion Meta
// would reject: the reasons end up in the dead-letter queue, so they name
// the field.
func checkConversion(c conversions.Conversion, now time.Time, source, page string) error {
	if c.Consent == conversions.ConsentDenied {
		// The dispatcher filters these; reaching here is a bug upstream,
		// and sending would break the person's choice.
		return errors.New("consent denied: not sent")
	}
	if strings.TrimSpace(c.EventName) == "" {
		return errors.New("event_name: required")
	}
	if strings.TrimSpace(c.DedupID) == "" {
		// Without event_id Meta cannot deduplicate a retry or the pixel twin.
		return errors.New("event_id: dedup id required")
	}
	if c.OccurredAt.IsZero() {
		return errors.New("event_time: occurred_at unknown")
	}
	// Compare what Meta will see: event_time is whole seconds.
	at := time.Unix(c.OccurredAt.Unix(), 0)
	window, windowText := maxAge, "7 days"
	if source == "physical_store" {
		window, windowText = maxAgePhysicalStore, "62 days"
	}
	if age := now.Sub(at); age > window {
		return fmt.Errorf("event_time: %s old, Meta accepts at most %s", age.Truncate(time.Second), windowText)
	}
	if ahead := at.Sub(now); ahead > maxAhead {
		return fmt.Errorf("event_time: %s in the future, Meta accepts at most %s", ahead.Truncate(time.Second), maxAhead)
	}
	if source == "website" && (page == "" || plain(c.User.UserAgent) == "") {
		return errors.New("action_source website: needs an absolute page url (event_source_url) and a user agent (client_user_agent)")
	}
	if strings.TrimSpace(c.EventName) == "Purchase" && !c.HasValue {
		// Meta requires value and currency on Purchase (docs/contracts/ad-platforms.md §2.2).
		return errors.New("custom_data.value: Purchase needs a value and a currency")
	}
	if c.HasValue {
		if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) {
			return fmt.Errorf("custom_data.value: not a number (%v)", c.Value)
		}
		if !conversions.ValidCurrency(strings.ToUpper(strings.TrimSpace(c.Currency))) {
			return fmt.Errorf("custom_data.currency: want an ISO 4217 code with the value, got %q", c.Currency)
		}
	}
	return nil
}

// checkUserData requires an identifier Meta can match on. Since Graph v13
// user_data must hold a valid combination (docs/contracts/ad-platforms.md §2.3); the exact list is
// unpublished, so this accepts what the docs name: any personal digest, a
// click or browser id, or ip together with user agent.
func checkUserData(u userData) error {
	switch {
	case len(u.Em) > 0, len(u.Ph) > 0, len(u.ExternalID) > 0, u.Fbc != "", u.Fbp != "":
		return nil
	case u.ClientIPAddress != "" && u.ClientUserAgent != "":
		return nil
	case len(u.Fn) > 0 && len(u.Ln) > 0 && (len(u.Zp) > 0 || len(u.Ct) > 0):
		// Name plus location is the classic offline-match combination.
		return nil
	}
	return errors.New("user_data: no identifier Meta can match (need email, phone, external id, fbc, fbp, ip with user agent, or name with city or zip)")
}
