package posthog

import "bytes"

// repairLoneSurrogates rewrites, in place, every JSON escape of a UTF-16
// surrogate that is not part of a high+low pair (`\ud83c` alone, `\ud83c\ud83c`)
// to `\ufffd`, the same length. Strict JSON parsers (serde_json in capture-rs,
// and downstream readers) reject lone surrogates; PostHog repairs them the same
// way (rust/capture/src/passes/invalid_surrogates.rs). Outside strings valid
// JSON has no backslash, so walking escapes from the first backslash is exact.
func repairLoneSurrogates(b []byte) {
	i := bytes.IndexByte(b, '\\')
	for i >= 0 && i+1 < len(b) {
		if b[i+1] != 'u' {
			i += 2 // \" \\ \n …: the escaped byte is never a backslash that starts an escape
		} else if r, ok := hex4(b, i+2); !ok {
			i += 2
		} else if r < 0xd800 || r >= 0xe000 {
			i += 6
		} else if r < 0xdc00 && i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' && isLowSurrogate(b, i+8) {
			i += 12
		} else {
			copy(b[i:], `\ufffd`)
			i += 6
		}
		if i >= len(b) {
			return
		}
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return
		}
		i += j
	}
}

func isLowSurrogate(b []byte, at int) bool {
	r, ok := hex4(b, at)
	return ok && r >= 0xdc00 && r < 0xe000
}

// hex4 reads the 4 hex digits at b[at:].
func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		v, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}
