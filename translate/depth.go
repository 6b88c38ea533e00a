package translate

import "bytes"

// MaxJSONDepth bounds the nesting of accepted JSON. gjson validates
// recursively, so without a bound a body of a few MB of "[" would grow the
// stack by gigabytes; no real event nests anywhere near this deep.
const MaxJSONDepth = 256

// WithinDepth reports whether the JSON text nests at most max levels of
// objects and arrays. It only tracks strings and brackets, so it is a cheap
// linear pre-check, not a validator. Most bytes of an event are inside
// strings; those are skipped with a vectorised search for the closing quote.
func WithinDepth(b []byte, max int) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end, ok := stringEnd(b, i+1)
			if !ok {
				return true // unterminated: the validator reports it
			}
			i = end
		case '[', '{':
			depth++
			if depth > max {
				return false
			}
		case ']', '}':
			depth--
		}
	}
	return true
}

// stringEnd returns the index of the quote closing the string whose
// contents start at from: the first quote not escaped by an odd run of
// backslashes.
func stringEnd(b []byte, from int) (int, bool) {
	for {
		j := bytes.IndexByte(b[from:], '"')
		if j < 0 {
			return 0, false
		}
		q := from + j
		n := 0
		for k := q - 1; k >= from && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q, true
		}
		from = q + 1
	}
}
