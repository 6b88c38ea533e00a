package meta

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// fbcRE is Meta's fbc shape, fb.{subdomain}.{ms}.{fbclid}[.{appendix}]
// (docs/contracts/ad-platforms.md §2.3, §2.8); fbp has the same shape with a random number last.
var fbcRE = regexp.MustCompile(`^fb\.\d+\.(\d+)\.[^.]+(\.[A-Za-z0-9]+)?$`)

// fbcMaxAge is how old a click id may be before Meta rejects it or flags it
// as a "modified fbc" (docs/contracts/ad-platforms.md §2.3, inferred): such an fbc is dropped.
const fbcMaxAge = 90 * 24 * time.Hour

// userData normalises and hashes c's identifiers the way Meta matches them
// (docs/contracts/ad-platforms.md §1.2, §2.3): digests for personal data, plain ip, user agent, fbc
// and fbp.
func (b builder) userData(c conversions.Conversion) userData {
	u := c.User
	return userData{
		Em:      digest(hashing.Email(u.Email)),
		Ph:      digest(hashing.PhoneDigits(u.Phone, b.phoneCountry)),
		Fn:      digest(hashing.Name(u.FirstName)),
		Ln:      digest(hashing.Name(u.LastName)),
		Ct:      digest(hashing.City(u.City)),
		St:      digest(hashing.City(u.State)),
		Zp:      digest(hashing.Zip(u.Zip)),
		Country: digest(hashing.Country(u.Country)),
		// Hashing is recommended, not required. The id is only trimmed, not
		// lower-cased: Meta wants it "in the same format" as the pixel sends
		// it, and Hogsend's pixel twin hashes it as is.
		ExternalID: digest(strings.TrimSpace(u.ExternalID)),

		ClientIPAddress: ipAddress(u.IP),
		ClientUserAgent: plain(u.UserAgent),
		Fbc:             fbc(c.Clicks, c.OccurredAt),
		Fbp:             browserID(c.Clicks.Fbp),
	}
}

// digest is the one-element list Meta gets for a normalised value, or nil
// when the value is absent: never the digest of "".
func digest(normalised string) []string {
	h := hashing.Hash(normalised)
	if h == "" || h == hashing.EmptyDigest {
		return nil
	}
	return []string{h}
}

// plain trims a field Meta wants unhashed. A value that already is a
// digest is dropped: Meta cannot use a hashed ip or user agent, and one
// refused field would fail the whole batch.
func plain(raw string) string {
	t := strings.TrimSpace(raw)
	if hashing.IsHashed(t) {
		return ""
	}
	return t
}

// ipAddress is the canonical form of an IPv4 or IPv6 address, or "" for
// anything else (a digest, a hostname, a list from X-Forwarded-For): Meta
// refuses an invalid client_ip_address, and with it the whole batch.
func ipAddress(raw string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	return a.WithZone("").Unmap().String()
}

// fbc is the ready _fbc cookie value when it is well formed, else
// fb.1.<click ms>.<fbclid> built from a click we actually saw: the
// timestamp is never invented (PostHog once stamped now() and broke
// attribution). The fbclid is case-sensitive and kept as is. An fbc older
// than fbcMaxAge at the time of the event is dropped.
func fbc(cl conversions.Clicks, occurred time.Time) string {
	if v := strings.TrimSpace(cl.Fbc); v != "" && freshFbc(v, occurred) {
		return v
	}
	id := strings.TrimSpace(cl.Fbclid)
	if id == "" || cl.At.IsZero() {
		return ""
	}
	v := "fb.1." + strconv.FormatInt(cl.At.UnixMilli(), 10) + "." + id
	if !freshFbc(v, occurred) {
		return ""
	}
	return v
}

func freshFbc(v string, occurred time.Time) bool {
	m := fbcRE.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	ms, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return false
	}
	return occurred.IsZero() || occurred.Sub(time.UnixMilli(ms)) <= fbcMaxAge
}

// browserID is the _fbp cookie value when it has Meta's shape; a server
// cannot derive one, so a malformed value is dropped rather than fixed.
func browserID(raw string) string {
	v := strings.TrimSpace(raw)
	if !fbcRE.MatchString(v) {
		return ""
	}
	return v
}
