package reddit

import (
	"errors"
	"net/netip"
	"strings"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// user is the wire "user" object; field order is the wire order.
type user struct {
	Email                 string                 `json:"email,omitempty"`
	ExternalID            string                 `json:"external_id,omitempty"`
	PhoneNumber           string                 `json:"phone_number,omitempty"`
	IPAddress             string                 `json:"ip_address,omitempty"`
	UserAgent             string                 `json:"user_agent,omitempty"`
	UUID                  string                 `json:"uuid,omitempty"`
	DataProcessingOptions *dataProcessingOptions `json:"data_processing_options,omitempty"`
}

// dataProcessingOptions is Reddit's Limited Data Use switch (docs/contracts/ad-platforms.md §6.5).
type dataProcessingOptions struct {
	Modes   []string `json:"modes,omitempty"`
	Country string   `json:"country,omitempty"`
	Region  string   `json:"region,omitempty"`
}

// buildUser normalises and hashes the identifiers the way Reddit matches
// them (docs/contracts/ad-platforms.md §1.2, §6.3). Hashed: email, external_id, phone_number and
// ip_address. Plain: user_agent and uuid (the _rdt_uuid cookie, compared
// byte for byte with what the pixel set). Names and addresses are not sent:
// Reddit has no field for them.
func buildUser(u conversions.User, rdtUUID, phoneCountry string) user {
	return user{
		Email:       hashEmail(u.Email),
		ExternalID:  hashing.Hash(strings.TrimSpace(u.ExternalID)),
		PhoneNumber: hashing.Hash(phoneE164(u.Phone, phoneCountry)),
		IPAddress:   hashIP(u.IP),
		UserAgent:   strings.TrimSpace(u.UserAgent),
		UUID:        strings.TrimSpace(rdtUUID),
	}
}

// hashEmail trims and lower-cases before hashing: the inferred rule (RS, PH).
// SEG and AP also strip '.' and "+suffix" from every local part, which is
// unconfirmed and would stop matching addresses where dots matter, so we
// do not.
func hashEmail(raw string) string {
	return hashing.Hash(hashing.Email(raw))
}

// phoneE164 is the E.164 form Reddit hashes ("+16505551212"; inferred: SEG,
// AP). A national-format number gets defaultCountry; without one it is
// dropped rather than sent under a guessed country. A 64-hex value is
// already a digest and passes through.
func phoneE164(raw, defaultCountry string) string {
	return hashing.StrictE164(raw, defaultCountry)
}

// hashIP hashes the canonical text of the address. v3 hashing of ip_address
// is unconfirmed (docs/contracts/ad-platforms.md §1.2): we follow AP's run() and RS transformV3, which
// hash it, as v2 documents (PH). Canonical form (lower-case, compressed
// IPv6, IPv4-mapped addresses unmapped, zone dropped) makes one address one
// digest. Anything that is not an address is dropped: hashing garbage only
// adds a signal that can never match.
func hashIP(raw string) string {
	t := strings.TrimSpace(raw)
	if t == "" {
		return ""
	}
	if hashing.IsHashed(t) {
		return strings.ToLower(t)
	}
	addr, err := netip.ParseAddr(t)
	if err != nil {
		return ""
	}
	return hashing.Hash(addr.WithZone("").Unmap().String())
}

var errLDUCountry = errors.New("limited data use needs the user's country (ISO 3166-1 alpha-2)")

// buildDataProcessingOptions marks a conversion Limited Data Use when the
// destination is configured so and the person did not explicitly grant
// consent (granted consent lifts the restriction; unknown consent keeps the
// configured default). Reddit needs the country with LDU (AP requires it),
// and the region ("US-CA") when known. Without LDU the object is omitted:
// country and region only scope the restriction.
func buildDataProcessingOptions(u conversions.User, consent conversions.Consent, ldu bool) (*dataProcessingOptions, error) {
	if !ldu || consent == conversions.ConsentGranted {
		return nil, nil
	}
	country := isoCountry(u.Country)
	if country == "" {
		return nil, errLDUCountry
	}
	return &dataProcessingOptions{
		Modes:   []string{"LDU"},
		Country: country,
		Region:  isoRegion(country, u.State),
	}, nil
}

// isoCountry is the upper-case ISO 3166-1 alpha-2 code, "" when s is none.
func isoCountry(s string) string {
	t := strings.ToUpper(strings.TrimSpace(s))
	if len(t) != 2 || !upperAlnum(t) || t[0] < 'A' || t[1] < 'A' {
		return ""
	}
	return t
}

// isoRegion is the ISO 3166-2 subdivision ("US-CA") from a state that is a
// subdivision code, with or without the country prefix; "" for anything
// else (a state spelled out cannot be mapped without a table).
func isoRegion(country, state string) string {
	t := strings.ToUpper(strings.TrimSpace(state))
	if rest, ok := strings.CutPrefix(t, country+"-"); ok {
		t = rest
	}
	if t == "" || len(t) > 3 || !upperAlnum(t) {
		return ""
	}
	return country + "-" + t
}

func upperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
