package hashing

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// sha is an independent SHA-256, so the vectors do not trust SHA256Hex.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestNegativeVectors pins values that must NOT come out equal to their
// neighbours: a normaliser that collapses them would hash somebody else's
// identity, one that splits them would never match.
func TestNegativeVectors(t *testing.T) {
	differ := func(what, a, b string) {
		t.Helper()
		if a == b {
			t.Errorf("%s: both %q", what, a)
		}
	}
	// Case: Hash itself never lower-cases; only the field normalisers do.
	differ("Hash case", Hash("Ada"), Hash("ada"))
	differ("TrimLower keeps inner spaces", TrimLower("ada lovelace"), TrimLower("adalovelace"))
	// Whitespace: only the ends are trimmed from an email.
	differ("inner space in email", Email("ada @example.com"), Email("ada@example.com"))
	differ("neighbouring emails", Hash(Email("ada@example.com")), Hash(Email("ada@example.co")))
	differ("plus address kept (Meta)", Email("ada+ads@example.com"), Email("ada@example.com"))
	// Phones: the country decides, a missing digit is another number.
	differ("national number, other country", PhoneDigits("020 7946 0000", "44"), PhoneDigits("020 7946 0000", "1"))
	differ("one digit short", PhoneE164("+1 555 123 0000", ""), PhoneE164("+1 555 123 000", ""))
	differ("E.164 keeps its plus", PhoneE164("+15551230000", ""), PhoneDigits("+15551230000", ""))
	differ("guess refused", StrictE164("5551230000", ""), StrictE164("+15551230000", ""))
	// Already hashed: passed through, never hashed again, never mangled.
	d := sha("ada@example.com")
	differ("digest rehashed", Hash(d), sha(d))
	differ("63 hex chars are not a digest", Hash(d[:63]), d[:63])
	differ("64 non-hex chars are not a digest", Hash(strings.Repeat("g", 64)), strings.Repeat("g", 64))
	differ("Name strips no digest", Name(d), lettersOnly(d, false))
	// Empty: absent, never the digest of "".
	differ("blank hashed", Hash("  "), sha(""))
	differ("blank email hashed", Hash(Email(" \t")), sha(""))
}

// TestVectorsAgainstIndependentSHA checks the normalise-then-hash chain
// against digests computed here from the documented rules.
func TestVectorsAgainstIndependentSHA(t *testing.T) {
	f := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %s, want %s", what, got, want)
		}
	}
	f("email", Hash(Email("  Ada@Example.COM ")), sha("ada@example.com"))
	f("upper-case digest", Hash(Email(strings.ToUpper(sha("x")))), sha("x"))
	f("phone digits", Hash(PhoneDigits("+44 20-7946 0000", "")), sha("442079460000"))
	f("national phone", Hash(PhoneDigits("020 7946 0000", "44")), sha("442079460000"))
	f("e164", Hash(PhoneE164("0044 20 7946 0000", "")), sha("+442079460000"))
	f("name", Hash(Name(" Zoë-Anne O'Neil ")), sha("zoëanneoneil"))
	f("zip+4", Hash(Zip("94025-1234")), sha("94025"))
	f("country", Hash(Country(" GB ")), sha("gb"))
}
