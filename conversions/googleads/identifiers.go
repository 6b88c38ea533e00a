package googleads

import (
	"strings"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// Only hashedEmail and hashedPhoneNumber are accepted on click conversion
// uploads (G-proto: "Only hashed_email and hashed_phone_number are
// supported"); names and addresses belong to adjustments, and anything else
// is UNSUPPORTED_USER_IDENTIFIER. So those are the only identifiers built.

// hashedEmail is Google's email digest: trim, lower-case, drop the dots of
// a gmail.com/googlemail.com local part, SHA-256. A value that is not an
// address at all is left out: its digest could never match anyone.
func hashedEmail(raw string) string {
	n := hashing.GoogleEmail(raw)
	if n == "" {
		return ""
	}
	if !hashing.IsHashed(n) && !plausibleEmail(n) {
		return ""
	}
	return hashing.Hash(n)
}

// hashedPhone is the digest of the E.164 form ("+16505551212"). A national
// number ("07700 900123") needs defaultCountry: without it the country is
// unknown, and guessing would hash somebody else's number.
func hashedPhone(raw, defaultCountry string) string {
	return hashing.Hash(hashing.StrictE164(raw, defaultCountry))
}

func plausibleEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n")
}

// userIdentifiers lists the conversion's identifiers in a fixed order (email,
// phone), leaving out the absent ones.
func userIdentifiers(u conversions.User, defaultCountry string) []userIdentifier {
	var ids []userIdentifier
	if h := hashedEmail(u.Email); h != "" {
		ids = append(ids, userIdentifier{HashedEmail: h})
	}
	if h := hashedPhone(u.Phone, defaultCountry); h != "" {
		ids = append(ids, userIdentifier{HashedPhoneNumber: h})
	}
	return ids
}

// clickID picks the one click id Google takes: gclid, else gbraid, else
// wbraid (setting gbraid and wbraid together is GBRAID_WBRAID_BOTH_SET).
func clickID(c conversions.Clicks) (field, value string) {
	for _, f := range []struct{ name, value string }{
		{"gclid", c.Gclid}, {"gbraid", c.Gbraid}, {"wbraid", c.Wbraid},
	} {
		if v := strings.TrimSpace(f.value); v != "" {
			return f.name, v
		}
	}
	return "", ""
}
