// Package hashing normalises and SHA-256-hashes personal identifiers the way ad
// platforms match them. Every platform wants lower-case hex SHA-256 of the
// UTF-8 bytes of the normalised value; the normalisation differs per platform
// and per field, so each platform client picks the functions it needs.
//
// Two rules hold everywhere: an empty (or whitespace-only) value is absent,
// never the digest of "", and a value that already is a 64-hex digest is
// passed through lower-cased, never hashed again.
package hashing

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// EmptyDigest is sha256(""): a platform fake flags it, we never send it.
const EmptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// SHA256Hex returns the lower-case hex SHA-256 of s.
func SHA256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// IsHashed reports whether s is a 64-character hex digest (either case).
func IsHashed(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Hash returns the digest of an already normalised value: "" for an empty
// value, the lower-cased input when it already is a digest, else SHA256Hex.
func Hash(normalised string) string {
	if strings.TrimSpace(normalised) == "" {
		return ""
	}
	if IsHashed(normalised) {
		return strings.ToLower(normalised)
	}
	return SHA256Hex(normalised)
}

// prehashed returns the lower-cased digest when raw already is one, so that
// normalising (which may strip characters) never mangles a digest.
func prehashed(raw string) (string, bool) {
	t := strings.TrimSpace(raw)
	if IsHashed(t) {
		return strings.ToLower(t), true
	}
	return "", false
}

// Email trims and lower-cases: the rule of Meta, TikTok, LinkedIn and Reddit.
func Email(raw string) string {
	if d, ok := prehashed(raw); ok {
		return d
	}
	return strings.ToLower(strings.TrimSpace(raw))
}

// GoogleEmail is Email plus Google's rule for gmail.com and googlemail.com:
// every '.' of the local part is removed.
func GoogleEmail(raw string) string {
	e := Email(raw)
	if IsHashed(e) {
		return e
	}
	at := strings.LastIndexByte(e, '@')
	if at < 0 {
		return e
	}
	local, domain := e[:at], e[at+1:]
	if domain == "gmail.com" || domain == "googlemail.com" {
		local = strings.ReplaceAll(local, ".", "")
	}
	return local + "@" + domain
}

// PhoneDigits is Meta's phone form: digits only, country code first, no '+'
// and no leading zeros ("+44 7700 900123" → "447700900123"). A number without
// an international prefix gets defaultCountryCode (digits, e.g. "1" or "44")
// after its national trunk zero is dropped; with no default it is kept as
// dialled, which may not match. "" when there are no digits.
func PhoneDigits(raw, defaultCountryCode string) string {
	if d, ok := prehashed(raw); ok {
		return d
	}
	t := strings.TrimSpace(raw)
	international := strings.HasPrefix(t, "+") || strings.HasPrefix(t, "00")
	var b strings.Builder
	for _, r := range t {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	digits := b.String()
	if digits == "" {
		return ""
	}
	switch {
	case strings.HasPrefix(t, "00"):
		digits = strings.TrimPrefix(digits, "00")
	case !international && defaultCountryCode != "":
		digits = defaultCountryCode + strings.TrimLeft(digits, "0")
	}
	return strings.TrimLeft(digits, "0")
}

// PhoneE164 is the E.164 form Google, TikTok and Reddit hash: '+' then the
// PhoneDigits ("+447700900123"). "" when there are no digits.
func PhoneE164(raw, defaultCountryCode string) string {
	d := PhoneDigits(raw, defaultCountryCode)
	if d == "" || IsHashed(d) {
		return d
	}
	return "+" + d
}

// StrictE164 is PhoneE164 for matching: a national-format number without a
// default country, or one outside E.164's 7 to 15 digits, is absent ("")
// rather than a guess that would hash somebody else's number. A digest
// passes through lower-cased.
func StrictE164(raw, defaultCountryCode string) string {
	t := strings.TrimSpace(raw)
	if d, ok := prehashed(t); ok {
		return d
	}
	international := strings.HasPrefix(t, "+") || strings.HasPrefix(t, "00")
	if !international && defaultCountryCode == "" {
		return ""
	}
	e := PhoneE164(t, defaultCountryCode)
	if n := len(e) - 1; e == "" || n < 7 || n > 15 {
		return ""
	}
	return e
}

// Name is Meta's first/last name form: lower case, letters only (no
// punctuation, no spaces, no digits), UTF-8 letters kept.
func Name(raw string) string {
	if d, ok := prehashed(raw); ok {
		return d
	}
	return lettersOnly(raw, false)
}

// TrimLower trims and lower-cases (Google's names).
func TrimLower(raw string) string {
	if d, ok := prehashed(raw); ok {
		return d
	}
	return strings.ToLower(strings.TrimSpace(raw))
}

// City is Meta's city and state form: lower case, letters only.
func City(raw string) string { return Name(raw) }

// Alnum lower-cases and keeps letters and digits (TikTok's city and state).
func Alnum(raw string) string { return lettersOnly(raw, true) }

// Zip lower-cases and removes spaces and dashes; a US ZIP+4 keeps its first
// five digits ("94025-1234" → "94025").
func Zip(raw string) string {
	if d, ok := prehashed(raw); ok {
		return d
	}
	t := strings.ToLower(strings.TrimSpace(raw))
	if len(t) == 10 && t[5] == '-' && allDigits(t[:5]) && allDigits(t[6:]) {
		return t[:5]
	}
	t = strings.ReplaceAll(t, " ", "")
	return strings.ReplaceAll(t, "-", "")
}

// Country lower-cases an ISO 3166-1 alpha-2 code; anything else is absent.
func Country(raw string) string {
	if d, ok := prehashed(raw); ok {
		return d
	}
	t := strings.ToLower(strings.TrimSpace(raw))
	if len(t) != 2 || t[0] < 'a' || t[0] > 'z' || t[1] < 'a' || t[1] > 'z' {
		return ""
	}
	return t
}

func lettersOnly(raw string, digits bool) string {
	var b strings.Builder
	for _, r := range strings.ToLower(raw) {
		if unicode.IsLetter(r) || digits && unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
