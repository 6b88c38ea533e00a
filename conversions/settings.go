package conversions

import (
	"fmt"
	"net/url"
	"strings"
)

// Checks every platform client applies to its config, so that the same
// value means the same thing for every destination.

// HTTPURL reports whether raw is an absolute http(s) URL without a query:
// what a base_url (or token_url) must be for paths to be joined onto it.
func HTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == ""
}

// CallingCode normalises a default_phone_country ("+44" → "44") and reports
// whether it is a country calling code: 1 to 3 digits, not starting with 0.
// "" (no default country) is valid.
func CallingCode(raw string) (string, bool) {
	c := strings.TrimPrefix(strings.TrimSpace(raw), "+")
	if c == "" {
		return "", true
	}
	if len(c) > 3 || c[0] == '0' {
		return c, false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < '0' || c[i] > '9' {
			return c, false
		}
	}
	return c, true
}

// Printable reports whether s is printable ASCII without spaces, so that it
// goes into a header, a query or a code field unchanged.
func Printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// SecretError checks a required credential named key: present, expanded
// from the environment, and Printable.
func SecretError(key, value string) error {
	switch {
	case value == "":
		return fmt.Errorf("%s: required", key)
	case strings.Contains(value, "${"):
		return fmt.Errorf("%s: looks like an unexpanded ${VAR}", key)
	case !Printable(value):
		return fmt.Errorf("%s: must not contain spaces or control characters", key)
	}
	return nil
}

// BaseURLError checks a base_url (see HTTPURL).
func BaseURLError(raw string) error {
	if !HTTPURL(raw) {
		return fmt.Errorf("base_url: %q is not an http(s) URL without a query", raw)
	}
	return nil
}
