package identity

import "strings"

// NormalizeEmail is how upstream stores an email key: trimmed and lower-cased,
// with dots and +tags kept (they are different mailboxes on some providers).
func NormalizeEmail(s string) string {
	// strings.ToLower returns s itself when nothing changes, so the common
	// already-normalised input costs no allocation.
	return strings.ToLower(strings.TrimSpace(s))
}

// NormalizeID normalises an external or anonymous id: trimmed, case kept.
func NormalizeID(s string) string {
	return strings.TrimSpace(s)
}

// LooksLikeUUID reports whether s has the 8-4-4-4-12 hex shape (either case).
// Upstream probes contacts.id with external keys of that shape, so a caller
// may address a contact by its id as userId.
func LooksLikeUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// uuidForm returns the canonical (lower-case) form of a uuid-shaped s, else "".
func uuidForm(s string) string {
	if !LooksLikeUUID(s) {
		return ""
	}
	return strings.ToLower(s)
}
