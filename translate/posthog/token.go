package posthog

import (
	"strconv"
	"strings"
)

// maxTokenLen is the longest project token capture accepts (token.rs).
const maxTokenLen = 64

// resolveToken applies docs/contracts/posthog-capture.md §3.2: a non-empty batch api_key/token wins;
// otherwise the events' own tokens (already trimmed, "" for none) must agree
// on exactly one value.
func resolveToken(batchToken string, events []RawEvent) (string, error) {
	if t := strings.TrimSpace(batchToken); t != "" {
		return t, validateToken(t)
	}
	var tok string
	for i := range events {
		switch t := events[i].Token; {
		case t == "" || t == tok:
		case tok == "":
			tok = t
		default:
			return "", newError(ErrMultipleTokens, "multiple project api keys in one request: "+
				strconv.Quote(shorten(tok))+" and "+strconv.Quote(shorten(t)))
		}
	}
	if tok == "" {
		return "", newError(ErrNoToken, "missing project api key (api_key, token or properties.token)")
	}
	return tok, validateToken(tok)
}

// validateToken is capture's shape check on a trimmed token (token.rs).
func validateToken(t string) error {
	switch {
	case len(t) > maxTokenLen:
		return newError(ErrInvalidToken, "invalid project api key: longer than 64 characters")
	case strings.HasPrefix(t, "phx_"):
		return newError(ErrInvalidToken, "invalid project api key: a personal api key (phx_) cannot be used to capture events")
	}
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c == 0:
			return newError(ErrInvalidToken, "invalid project api key: contains a nul character")
		case c >= 0x80:
			return newError(ErrInvalidToken, "invalid project api key: not ascii")
		}
	}
	return nil
}

// shorten bounds client-provided text quoted in error messages.
func shorten(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
