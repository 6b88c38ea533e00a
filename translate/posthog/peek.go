package posthog

import (
	"strings"
	"unsafe"
)

// PeekToken reads the project token of a capture payload (the output of
// DecodeRequest) without building its events, so that an unknown token is
// refused before the costly work. It looks at the top-level api_key or
// token, at a single event's token, $token, api_key and properties.token,
// and at the first event of an array of events when that event is within
// limits.MaxEventBytes (every other event must then agree with it).
//
// ok is false when the payload does not settle the token that way (a
// batch object whose token is absent or not the first of its token keys,
// a $token at the top level): the full parse decides. When ok, a
// successful ParsePayloadInto of the same text under the same limits
// resolves exactly this token. Invalid JSON gives an answer too, which
// does not matter: the parse refuses it.
func PeekToken(jsonText []byte, limits Limits) (token string, ok bool) {
	limits = limits.withDefaults()
	text := unsafe.String(unsafe.SliceData(jsonText), len(jsonText))
	start := skipSpace(text, 0)
	if start >= len(text) {
		return "", false
	}
	switch text[start] {
	case '{':
		return peekObject(text, start)
	case '[':
		first := skipSpace(text, start+1)
		if first >= len(text) || text[first] != '{' {
			return "", false
		}
		if containerEnd(text, first)-first > limits.MaxEventBytes {
			return "", false // dropped by the parse: its token does not count
		}
		return peekEvent(text, first)
	}
	return "", false
}

// peekObject reads the token of a top-level object, a batch or one event.
// Its first api_key or token, when a non-blank string, is the token in
// both readings; anything else at the top level leaves a batch undecided.
func peekObject(text string, at int) (string, bool) {
	var token, fromProps string
	decided, undecided, batch, batchSeen, propsSeen := false, false, false, false, false
	members(text, at, func(k string, i int) int {
		switch k {
		case "api_key", "token":
			if t, ok := peekString(text, i); ok && t != "" {
				token, decided = t, true
			} else {
				undecided = true
			}
			return len(text) // settled, or left to the parse
		case "$token":
			undecided = true
			return len(text)
		case "batch":
			if !batchSeen {
				batchSeen, batch = true, !strings.HasPrefix(text[i:], "null")
			}
		case "properties":
			if !propsSeen {
				propsSeen = true
				fromProps, _ = propertiesToken(text, i)
			}
		}
		return skipValue(text, i)
	})
	switch {
	case decided:
		return token, true
	case undecided || batch || fromProps == "":
		return "", false
	}
	return fromProps, true
}

// peekEvent is parseEvent's token: the first non-blank string of token,
// $token and api_key, else the first properties' token.
func peekEvent(text string, at int) (string, bool) {
	var token, fromProps string
	propsSeen := false
	members(text, at, func(k string, i int) int {
		switch k {
		case "token", "$token", "api_key":
			if t, ok := peekString(text, i); ok && t != "" && token == "" {
				token = t
			}
		case "properties":
			if !propsSeen {
				propsSeen = true
				fromProps, _ = propertiesToken(text, i)
			}
		}
		return skipValue(text, i)
	})
	if token == "" {
		token = fromProps
	}
	return token, token != ""
}

// propertiesToken is the trimmed first token member of the properties
// object at text[at], when it is a string.
func propertiesToken(text string, at int) (string, bool) {
	if at >= len(text) || text[at] != '{' {
		return "", false
	}
	var token string
	found := false
	members(text, at, func(k string, i int) int {
		if k == "token" && !found {
			found = true
			token, _ = peekString(text, i)
		}
		return skipValue(text, i)
	})
	return token, found
}

// peekString is the trimmed string at text[at]; ok is false for other values.
func peekString(text string, at int) (string, bool) {
	if at >= len(text) || text[at] != '"' {
		return "", false
	}
	return strings.TrimSpace(unquote(text[at:stringEnd(text, at)])), true
}
