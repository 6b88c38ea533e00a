package conversions

import (
	"strings"
	"unicode/utf8"
)

// snippetMax bounds the body text quoted in a reason: reasons land in
// last_error, dead letters and logs.
const snippetMax = 200

// Snippet is the start of a platform's answer body, for an error reason:
// URLs in it are redacted (an error page may echo the request URL and its
// secret query), it is valid UTF-8, cut at snippetMax bytes on a rune
// boundary, and "empty body" when the body is blank.
func Snippet(body []byte) string {
	s := strings.ToValidUTF8(strings.TrimSpace(string(body)), "\uFFFD")
	if s == "" {
		return "empty body"
	}
	s = redactURLs(s)
	if len(s) > snippetMax {
		cut := snippetMax
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// redactURLs replaces every http(s) URL in s with RedactURL of it.
func redactURLs(s string) string {
	var b strings.Builder
	for {
		i := urlStart(s)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + strings.IndexFunc(s[i:], urlEnd)
		if end < i {
			end = len(s)
		}
		b.WriteString(s[:i])
		b.WriteString(RedactURL(s[i:end]))
		s = s[end:]
	}
}

// urlStart is the index of the first "http://" or "https://" in s, or -1.
func urlStart(s string) int {
	lower := strings.ToLower(s)
	i, j := strings.Index(lower, "http://"), strings.Index(lower, "https://")
	if i < 0 || j >= 0 && j < i {
		return j
	}
	return i
}

// urlEnd reports the characters that end a URL quoted in text or markup.
func urlEnd(r rune) bool {
	return r <= ' ' || strings.ContainsRune(`"'<>\`+"`", r)
}
