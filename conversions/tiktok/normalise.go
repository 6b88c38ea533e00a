package tiktok

import (
	"net/netip"
	"net/url"
	"strings"
	"unicode"

	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// TikTok's normalisation (docs/contracts/ad-platforms.md §1.2): email trim + lower case, phone E.164
// with '+', names lower case without whitespace, zip without spaces or
// dashes, external id trim + lower case (as SEG does), all SHA-256; city and
// state lower-case alphanumerics and country lower-case ISO-2, all plain.

// hashed returns the digest of an already normalised value, or "" when the
// value is absent. hashing.Hash passes a digest through, so a pre-hashed
// sha256("") must be dropped here: it would match nobody.
func hashed(normalised string) string {
	h := hashing.Hash(normalised)
	if h == hashing.EmptyDigest {
		return ""
	}
	return h
}

// email is absent unless it is a digest or looks like an address.
func email(raw string) string {
	e := hashing.Email(raw)
	if !hashing.IsHashed(e) && !strings.Contains(e, "@") {
		return ""
	}
	return hashed(e)
}

// phone is the E.164 digest; a number that cannot be put in E.164 (no
// country, outside 7 to 15 digits) is absent rather than a wrong guess.
func phone(raw, defaultCountry string) string {
	return hashed(hashing.StrictE164(raw, defaultCountry))
}

// name is TikTok's first/last name form: lower case with every whitespace
// removed; punctuation is kept (unlike Meta's letters-only rule).
func name(raw string) string {
	t := strings.TrimSpace(raw)
	if hashing.IsHashed(t) {
		return strings.ToLower(t)
	}
	var b strings.Builder
	for _, r := range strings.ToLower(t) {
		if !unicode.IsSpace(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plain drops a value that must be sent in clear but arrived as a digest:
// it cannot be un-hashed, and TikTok would not match a hashed city.
func plain(v string) string {
	if hashing.IsHashed(v) {
		return ""
	}
	return v
}

// ip is the canonical address, or "" when raw is not an IP (a malformed ip
// is dropped, not rejected: the other identifiers may still match).
func ip(raw string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	return a.WithZone("").Unmap().String()
}

// pageURL keeps only absolute http(s) URLs; anything else is not a page.
func pageURL(raw string) (string, *url.URL) {
	t := strings.TrimSpace(raw)
	u, err := url.Parse(t)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil
	}
	return t, u
}

// clean trims a click or browser id and drops one with control characters,
// which no cookie or query value can hold.
func clean(raw string) string {
	t := strings.TrimSpace(raw)
	for _, r := range t {
		if unicode.IsControl(r) {
			return ""
		}
	}
	return t
}
