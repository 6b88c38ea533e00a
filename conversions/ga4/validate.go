package ga4

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// GA4's limits (docs/contracts/ad-platforms.md §7). Production answers 2xx even when they are
// broken, so they are checked before sending.
const (
	// MaxAge is how far back timestamp_micros may go.
	MaxAge = 72 * time.Hour
	// maxFuture tolerates clock skew between us and Google.
	maxFuture = 5 * time.Minute
	// maxName is the length limit of event and parameter names.
	maxName = 40
	// maxParamValue is the length limit of string parameter values.
	maxParamValue = 100
	// maxPageLocation is page_location's own, larger limit.
	maxPageLocation = 1000
	// maxUserID is the length limit of user_id.
	maxUserID = 256
	// maxClientID bounds client_id; GA4 documents no limit, but a _ga id is
	// short and anything huge is a bug upstream.
	maxClientID = 256
)

// reservedNames are event names GA4 reserves for its own collection.
var reservedNames = map[string]bool{
	"ad_activeview": true, "ad_click": true, "ad_exposure": true, "ad_query": true,
	"ad_reward": true, "adunit_exposure": true, "app_clear_data": true,
	"app_exception": true, "app_install": true, "app_remove": true,
	"app_store_refund": true, "app_update": true, "app_upgrade": true,
	"dynamic_link_app_open": true, "dynamic_link_app_update": true,
	"dynamic_link_first_open": true, "error": true, "first_open": true,
	"first_visit": true, "in_app_purchase": true, "notification_dismiss": true,
	"notification_foreground": true, "notification_open": true,
	"notification_receive": true, "notification_send": true, "os_update": true,
	"screen_view": true, "session_start": true, "user_engagement": true,
}

// reservedPrefixes start names GA4 reserves.
var reservedPrefixes = []string{"google_", "ga_", "firebase_"}

// ValidEventName reports why name is not a GA4 event name, or "" when it
// is one: 1 to 40 characters, a letter then letters, digits or '_', not
// reserved.
func ValidEventName(name string) string {
	switch {
	case name == "":
		return "event name is empty"
	case len(name) > maxName:
		return fmt.Sprintf("event name %q is longer than %d characters", name, maxName)
	case !isLetter(name[0]):
		return fmt.Sprintf("event name %q must start with a letter", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isLetter(c) && !('0' <= c && c <= '9') && c != '_' {
			return fmt.Sprintf("event name %q may hold only letters, digits and '_'", name)
		}
	}
	if reservedNames[name] {
		return fmt.Sprintf("event name %q is reserved by GA4", name)
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(name, p) {
			return fmt.Sprintf("event name %q uses the reserved prefix %q", name, p)
		}
	}
	return ""
}

// validate returns why conv cannot be sent, or nil.
func validate(conv conversions.Conversion, now time.Time) error {
	if conv.Consent == conversions.ConsentDenied {
		return fmt.Errorf("consent denied: not sent")
	}
	if msg := ValidEventName(conv.EventName); msg != "" {
		return fmt.Errorf("invalid event: %s", msg)
	}
	if conv.DedupID == "" {
		return fmt.Errorf("transaction_id: dedup id is empty")
	}
	if len(conv.DedupID) > maxParamValue {
		return fmt.Errorf("transaction_id: longer than %d characters", maxParamValue)
	}
	id := clientID(conv)
	switch {
	case id == "":
		return fmt.Errorf("client_id: no GA client id and no contact id")
	case len(id) > maxClientID:
		return fmt.Errorf("client_id: longer than %d characters", maxClientID)
	}
	if len(strings.TrimSpace(conv.User.ExternalID)) > maxUserID {
		return fmt.Errorf("user_id: external id longer than %d characters", maxUserID)
	}
	switch {
	case conv.OccurredAt.IsZero():
		return fmt.Errorf("timestamp_micros: occurred_at is unset")
	case now.Sub(conv.OccurredAt) > MaxAge:
		return fmt.Errorf("timestamp_micros: occurred %s ago, older than GA4's %s window",
			now.Sub(conv.OccurredAt).Truncate(time.Second), MaxAge)
	case conv.OccurredAt.Sub(now) > maxFuture:
		return fmt.Errorf("timestamp_micros: occurred_at is %s in the future",
			conv.OccurredAt.Sub(now).Truncate(time.Second))
	}
	if conv.HasValue && (math.IsNaN(conv.Value) || math.IsInf(conv.Value, 0)) {
		return fmt.Errorf("value: %v is not a number JSON can carry", conv.Value)
	}
	if conv.HasValue && !conversions.ValidCurrency(conv.Currency) {
		return fmt.Errorf("currency: %q is not an ISO 4217 code, and GA4 needs one with value", conv.Currency)
	}
	return nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
