package redditfake

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Reddit's limits (docs/contracts/ad-platforms.md §6.3).
const (
	MaxBatch  = 1000
	MaxAge    = 168 * time.Hour
	MaxFuture = 5 * time.Minute
	// maxCustomEventName is the custom_event_name limit (docs/contracts/ad-platforms.md §6.1).
	maxCustomEventName = 64
)

// emptyDigest is sha256(""): a client that sends it hashed an absent value.
const emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// checkEvent lists what is wrong with one event (none: valid). The
// texts are Reddit's where it is known ("event_at timestamp must be less
// than 168h0m0s old"), the fake's own otherwise.
func checkEvent(ev wireEvent, now time.Time) []string {
	var p problems
	checkTime(&p, ev.EventAt, now)

	source := ""
	switch {
	case ev.ActionSource == nil:
		p.add("action_source: required")
	case !oneOf(*ev.ActionSource, "WEBSITE", "APP", "PHYSICAL_STORE", "OTHER"):
		// Lower case is a common mistake Reddit refuses (docs/contracts/ad-platforms.md §6.2).
		p.add("action_source: invalid value %q", *ev.ActionSource)
	default:
		source = *ev.ActionSource
	}
	if ev.EventSourceURL != nil {
		if source != "" && source != "WEBSITE" {
			p.add("event_source_url: only allowed with action_source WEBSITE")
		}
		if u, err := url.Parse(*ev.EventSourceURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			p.add("event_source_url: %q is not an absolute http(s) URL", *ev.EventSourceURL)
		}
	}
	if ev.ClickID != nil {
		checkPlain(&p, "click_id", *ev.ClickID)
	}

	tracking := checkType(&p, ev.Type)
	attributed := ev.ClickID != nil && *ev.ClickID != ""
	if ev.User != nil {
		attributed = checkUser(&p, *ev.User) || attributed
	}
	if !attributed {
		p.add("at least one of click_id, email, phone_number, external_id, ip_address, idfa, aaid or uuid is required")
	}
	checkMetadata(&p, ev.Metadata, tracking)
	return p
}

func checkTime(p *problems, eventAt *int64, now time.Time) {
	if eventAt == nil {
		p.add("event_at: required")
		return
	}
	ms := *eventAt
	// Epoch ms from 2001 to 2286 have 13 digits; seconds have 10, µs 16.
	if ms < 1e12 || ms >= 1e13 {
		p.add("event_at: %d is not a unix timestamp in milliseconds (13 digits)", ms)
		return
	}
	at := time.UnixMilli(ms)
	if now.Sub(at) >= MaxAge {
		p.add("event_at timestamp must be less than %s old", MaxAge)
	}
	if at.Sub(now) > MaxFuture {
		p.add("event_at timestamp must be at most %s in the future", MaxFuture)
	}
}

// checkType returns the tracking type when valid, "" otherwise.
func checkType(p *problems, t *wireType) string {
	if t == nil || t.TrackingType == nil {
		p.add("type.tracking_type: required")
		return ""
	}
	tt := *t.TrackingType
	if !oneOf(tt, "PAGE_VISIT", "VIEW_CONTENT", "SEARCH", "ADD_TO_CART", "ADD_TO_WISHLIST", "PURCHASE", "LEAD", "SIGN_UP", "CUSTOM") {
		p.add("type.tracking_type: invalid value %q", tt)
		return ""
	}
	switch {
	case tt == "CUSTOM" && (t.CustomEventName == nil || strings.TrimSpace(*t.CustomEventName) == ""):
		p.add("type.custom_event_name: required for CUSTOM")
	case tt == "CUSTOM" && len([]rune(*t.CustomEventName)) > maxCustomEventName:
		p.add("type.custom_event_name: longer than %d characters", maxCustomEventName)
	case tt != "CUSTOM" && t.CustomEventName != nil:
		p.add("type.custom_event_name: only allowed for CUSTOM")
	}
	return tt
}

// checkUser validates the identifiers and reports whether one of them is an
// attribution signal. Hashed: email, external_id, phone_number, ip_address
// (hashed in v3 as in v2: the behaviour the client chose, docs/contracts/ad-platforms.md §1.2), idfa,
// aaid. Plain: user_agent, uuid.
func checkUser(p *problems, u wireUser) bool {
	signal := false
	for _, f := range []struct {
		name string
		v    *string
	}{
		{"email", u.Email}, {"external_id", u.ExternalID}, {"phone_number", u.PhoneNumber},
		{"ip_address", u.IPAddress}, {"idfa", u.IDFA}, {"aaid", u.AAID},
	} {
		if f.v == nil {
			continue
		}
		checkHashed(p, "user."+f.name, *f.v)
		signal = true
	}
	if u.UserAgent != nil {
		checkPlain(p, "user.user_agent", *u.UserAgent)
	}
	if u.UUID != nil {
		checkPlain(p, "user.uuid", *u.UUID)
		signal = true
	}
	if d := u.DataProcessingOptions; d != nil {
		checkDPO(p, *d)
	}
	if s := u.ScreenDimensions; s != nil {
		if s.Width != nil && *s.Width <= 0 || s.Height != nil && *s.Height <= 0 {
			p.add("user.screen_dimensions: width and height must be positive")
		}
	}
	return signal
}

func checkHashed(p *problems, field, v string) {
	switch {
	case v == emptyDigest:
		p.add("%s: sha256 of an empty string", field)
	case !isLowerHex64(v):
		p.add("%s: must be a lower-case hex sha256 digest", field)
	}
}

// checkPlain flags an empty value and one that was hashed by mistake.
func checkPlain(p *problems, field, v string) {
	switch {
	case strings.TrimSpace(v) == "":
		p.add("%s: empty", field)
	case isHex64(v):
		p.add("%s: is sent plain, got a sha256 digest", field)
	}
}

func checkDPO(p *problems, d wireDPO) {
	ldu := false
	for _, m := range d.Modes {
		if m != "LDU" {
			p.add("user.data_processing_options.modes: invalid value %q", m)
		}
		ldu = ldu || m == "LDU"
	}
	country := ""
	if d.Country != nil {
		country = *d.Country
		if len(country) != 2 || !upperLetters(country) {
			p.add("user.data_processing_options.country: %q is not an upper-case ISO 3166-1 alpha-2 code", country)
		}
	}
	if ldu && country == "" {
		p.add("user.data_processing_options.country: required with LDU")
	}
	if d.Region != nil {
		r := *d.Region
		code, ok := strings.CutPrefix(r, country+"-")
		if country == "" || !ok || code == "" || len(code) > 3 || strings.ToUpper(code) != code {
			p.add("user.data_processing_options.region: %q is not an ISO 3166-2 code of the country", r)
		}
	}
}

// checkMetadata checks the dedup key and, per Reddit's event-metadata matrix
// (docs/contracts/ad-platforms.md §6.1), which types take value/currency and item_count.
func checkMetadata(p *problems, m *wireMetadata, tracking string) {
	// Reddit accepts events without conversion_id; the fake does not, as
	// its ledger deduplicates on it and our client always sends it.
	if m == nil || m.ConversionID == nil || strings.TrimSpace(*m.ConversionID) == "" {
		p.add("metadata.conversion_id: required")
	}
	if m == nil {
		return
	}
	valueOK := oneOf(tracking, "PURCHASE", "ADD_TO_CART", "ADD_TO_WISHLIST", "LEAD", "SIGN_UP", "CUSTOM")
	if m.Value != nil {
		if !valueOK {
			p.add("metadata.value: not allowed for %s", tracking)
		}
		if *m.Value < 0 {
			p.add("metadata.value: negative")
		}
		if m.Currency == nil {
			p.add("metadata.currency: required with value")
		}
	}
	if m.Currency != nil {
		if m.Value == nil {
			p.add("metadata.currency: without value")
		}
		if c := *m.Currency; len(c) != 3 || !upperLetters(c) {
			p.add("metadata.currency: %q is not an upper-case ISO 4217 code", c)
		}
	}
	if m.ItemCount != nil {
		if !oneOf(tracking, "PURCHASE", "ADD_TO_CART", "ADD_TO_WISHLIST", "CUSTOM") {
			p.add("metadata.item_count: not allowed for %s", tracking)
		}
		if *m.ItemCount < 0 {
			p.add("metadata.item_count: negative")
		}
	}
}

// problems collects an event's faults in the order found.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func oneOf(s string, set ...string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isHex64(s string) bool { return isLowerHex64(strings.ToLower(s)) }

func upperLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}
