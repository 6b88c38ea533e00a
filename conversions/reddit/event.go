package reddit

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// Reddit's limits (docs/contracts/ad-platforms.md §6.3).
const (
	// MaxBatchSize is the most events one request may carry.
	MaxBatchSize = 1000
	// MaxAge: event_at must be less than 168 h old.
	MaxAge = 168 * time.Hour
	// MaxFuture: event_at may be at most 5 min ahead of Reddit's clock.
	MaxFuture = 5 * time.Minute
	// ageMargin refuses events a minute before Reddit would: one stale event
	// makes Reddit refuse the whole request, so an event must not cross the
	// limit while in flight.
	ageMargin = time.Minute
)

// buildEvent validates one conversion and builds its wire event (docs/contracts/ad-platforms.md §1.3:
// validate before sending). An error is a permanent refusal with a reason.
func (c *Client) buildEvent(conv conversions.Conversion, now time.Time) (event, error) {
	if conv.Consent == conversions.ConsentDenied {
		// The dispatcher filters these; never send one that slipped through.
		return event{}, errors.New("consent denied: not sent")
	}
	dedup := strings.TrimSpace(conv.DedupID)
	if dedup == "" {
		return event{}, errors.New("dedup_id: required (reddit's conversion_id)")
	}
	eventAt, err := checkEventTime(conv.OccurredAt, now)
	if err != nil {
		return event{}, err
	}
	typ, err := trackingType(conv.EventName)
	if err != nil {
		return event{}, err
	}

	ev := event{
		EventAt:      eventAt,
		ActionSource: c.cfg.ActionSource,
		ClickID:      strings.TrimSpace(conv.Clicks.RdtCid),
		Type:         typ,
		User:         buildUser(conv.User, conv.Clicks.RdtUUID, c.cfg.DefaultPhoneCountry),
		Metadata:     metadata{ConversionID: dedup},
	}
	if ev.ActionSource == ActionWebsite {
		ev.EventSourceURL = pageURL(conv.PageURL)
	}
	if !hasAttribution(ev) {
		return event{}, errors.New("no attribution signal: reddit needs a click id, email, phone, external id, ip or uuid")
	}
	ev.User.DataProcessingOptions, err = buildDataProcessingOptions(conv.User, conv.Consent, c.cfg.LimitedDataUse)
	if err != nil {
		return event{}, err
	}
	// Value and currency only where Reddit's matrix allows them; on other
	// types (PAGE_VISIT, VIEW_CONTENT, SEARCH) they are left out, not refused.
	if conv.HasValue && takesValue(typ.TrackingType) {
		cur := strings.ToUpper(strings.TrimSpace(conv.Currency))
		if !conversions.ValidCurrency(cur) {
			return event{}, fmt.Errorf("currency: %q is not an ISO 4217 code", conv.Currency)
		}
		v := conv.Value
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return event{}, fmt.Errorf("value: %v is not an amount", v)
		}
		ev.Metadata.Currency, ev.Metadata.Value = cur, &v
	}
	return ev, nil
}

// checkEventTime returns event_at in epoch ms if Reddit accepts the time.
func checkEventTime(at, now time.Time) (int64, error) {
	if at.IsZero() {
		return 0, errors.New("occurred_at: required")
	}
	if age := now.Sub(at); age >= MaxAge-ageMargin {
		return 0, fmt.Errorf("occurred_at: %s old, reddit accepts events less than %s old", age.Round(time.Second), MaxAge)
	}
	if ahead := at.Sub(now); ahead > MaxFuture {
		return 0, fmt.Errorf("occurred_at: %s in the future, reddit accepts at most %s", ahead.Round(time.Second), MaxFuture)
	}
	return at.UnixMilli(), nil
}

// hasAttribution reports whether the event carries one of the signals
// Reddit requires (docs/contracts/ad-platforms.md §6.3; idfa/aaid we never have).
func hasAttribution(ev event) bool {
	u := ev.User
	return ev.ClickID != "" || u.Email != "" || u.PhoneNumber != "" || u.ExternalID != "" || u.IPAddress != "" || u.UUID != ""
}

// pageURL keeps an absolute http(s) URL for event_source_url; anything else
// is left out rather than risk the event over an optional field.
func pageURL(raw string) string {
	t := strings.TrimSpace(raw)
	u, err := url.Parse(t)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return t
}
