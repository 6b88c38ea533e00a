package fakeads

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// The fakes judge digests with their own SHA-256, never with the client's
// hashing package: a bug there must not be agreed with here. The rules are
// docs/contracts/ad-platforms.md §1.2.

// Digest is the lower-case hex SHA-256 of a value already normalised.
func Digest(normalised string) string {
	sum := sha256.Sum256([]byte(normalised))
	return hex.EncodeToString(sum[:])
}

// IsEmptyDigest reports the SHA-256 of "": an absent value hashed by mistake.
func IsEmptyDigest(s string) bool { return s == Digest("") }

// LooksHashed reports 64 hex characters of either case: what a platform
// takes for a digest when it wants plain text.
func LooksHashed(s string) bool {
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

// IsDigest reports 64 lower-case hex characters, the only digest form every
// platform matches.
func IsDigest(s string) bool { return LooksHashed(s) && s == strings.ToLower(s) }

// EmailDigest is the digest an email must arrive as: trimmed, lower-cased,
// then hashed.
func EmailDigest(raw string) string { return Digest(strings.ToLower(strings.TrimSpace(raw))) }

// PhoneDigest is the digest of a phone number given in E.164: its digits
// only (country code first, no "+"), then hashed.
func PhoneDigest(e164 string) string {
	var b strings.Builder
	for _, r := range e164 {
		if '0' <= r && r <= '9' {
			b.WriteRune(r)
		}
	}
	return Digest(b.String())
}
