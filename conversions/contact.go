package conversions

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/conversions/rules"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// userOf collects the raw identifiers of a conversion: the contact's keys
// and properties first, the event's properties (and PostHog's GeoIP ones)
// where the contact has none. Property names cover the common spellings of
// Hogsend, PostHog and Segment-style payloads.
func userOf(ev *canonical.Event, f *ContactFacts) User {
	contact := func(keys ...string) string { return firstString(f.Properties, keys...) }
	event := func(keys ...string) string { return firstString(ev.Properties, keys...) }
	either := func(keys ...string) string {
		if v := contact(keys...); v != "" {
			return v
		}
		return event(keys...)
	}
	u := User{
		Email:       f.Email,
		Phone:       either("phone", "phone_number", "phoneNumber", "$phone"),
		FirstName:   either("first_name", "firstName", "$first_name"),
		LastName:    either("last_name", "lastName", "$last_name"),
		City:        either("city", "$geoip_city_name"),
		State:       either("state", "region", "$geoip_subdivision_1_code"),
		Zip:         either("zip", "postal_code", "postalCode", "zip_code", "$geoip_postal_code"),
		Country:     either("country_code", "countryCode", "country", "$geoip_country_code"),
		ExternalID:  f.ExternalID,
		IP:          event("$ip", "ip", "client_ip", "clientIp"),
		UserAgent:   event("$raw_user_agent", "user_agent", "userAgent", "$user_agent"),
		Title:       either("title", "job_title", "jobTitle"),
		CompanyName: either("company_name", "companyName", "company"),
	}
	if u.Email == "" {
		u.Email = either("email", "$email")
	}
	if u.ExternalID == "" {
		u.ExternalID = ev.ContactID.String()
	}
	if len(u.Country) != 2 {
		u.Country = ""
	}
	if u.IP == "" && browserOriginated(ev) {
		// The request's address is the person's only when a browser sent
		// it; a backend's events carry the backend's address.
		u.IP = ev.IP
	}
	return u
}

func browserOriginated(ev *canonical.Event) bool {
	switch rules.SourceOf(ev) {
	case rules.SourceInApp, rules.SourcePostHogWeb:
		return true
	}
	return false
}

// consentOf reads the consent property on the event, else on the contact.
func consentOf(property string, eventProps, contactProps []byte) Consent {
	if property == "" {
		return ConsentUnknown
	}
	for _, props := range [][]byte{eventProps, contactProps} {
		if c := parseConsent(gjson.GetBytes(props, escapeKey(property))); c != ConsentUnknown {
			return c
		}
	}
	return ConsentUnknown
}

func parseConsent(v gjson.Result) Consent {
	switch v.Type {
	case gjson.True:
		return ConsentGranted
	case gjson.False:
		return ConsentDenied
	case gjson.Number:
		if v.Num == 1 {
			return ConsentGranted
		}
		if v.Num == 0 {
			return ConsentDenied
		}
	case gjson.String:
		switch strings.ToLower(strings.TrimSpace(v.Str)) {
		case "true", "yes", "granted", "1", "opt_in", "opted_in":
			return ConsentGranted
		case "false", "no", "denied", "0", "opt_out", "opted_out":
			return ConsentDenied
		}
	}
	return ConsentUnknown
}

// firstString returns the first non-empty string (or number, as text) at
// one of the top-level keys of props.
func firstString(props []byte, keys ...string) string {
	if len(props) == 0 {
		return ""
	}
	for _, k := range keys {
		v := gjson.GetBytes(props, escapeKey(k))
		switch v.Type {
		case gjson.String:
			if s := strings.TrimSpace(v.Str); s != "" {
				return s
			}
		case gjson.Number:
			return v.Raw
		}
	}
	return ""
}

// escapeKey makes k a gjson path naming one top-level key.
func escapeKey(k string) string {
	if !strings.ContainsAny(k, `.*?|#@\!$:`) {
		return k
	}
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		if strings.IndexByte(`.*?|#@\!$:`, k[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(k[i])
	}
	return b.String()
}
