package translate

// MaxJSONDepth bounds the nesting of accepted JSON. gjson validates
// recursively, so without a bound a body of a few MB of "[" would grow the
// stack by gigabytes; no real event nests anywhere near this deep.
const MaxJSONDepth = 256

// WithinDepth reports whether the JSON text nests at most max levels of
// objects and arrays. It only tracks strings and brackets, so it is a cheap
// linear pre-check, not a validator.
func WithinDepth(b []byte, max int) bool {
	depth := 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
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
