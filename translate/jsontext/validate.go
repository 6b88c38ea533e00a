package jsontext

import (
	"encoding/binary"
	"math/bits"
)

// MaxDepth bounds the nesting of accepted JSON. No real event nests anywhere
// near this deep, and a bound keeps every later recursive reader's stack
// small.
const MaxDepth = 256

// Verdict is the outcome of Validate.
type Verdict uint8

const (
	Valid   Verdict = iota
	Invalid         // not one JSON value (RFC 8259 grammar)
	TooDeep         // valid so far, but nesting more than maxDepth levels
)

// Validate checks that b is exactly one JSON value, surrounded by nothing but
// JSON whitespace, nesting at most maxDepth (≤ MaxDepth) arrays and objects.
// It accepts what gjson.Valid accepts (strings are not checked for UTF-8) in
// one pass, without recursion: the bytes of an event are mostly string
// contents, which it scans eight at a time.
func Validate(b []byte, maxDepth int) Verdict {
	maxDepth = min(maxDepth, MaxDepth) // a negative one admits no container
	var objects [MaxDepth / 64]uint64  // bit d: the container at depth d+1 is an object
	depth := 0
	const (
		wantValue = iota
		wantKey
		afterValue
	)
	state := wantValue
	i := skipWhitespace(b, 0)
	for {
		switch state {
		case wantValue:
			if i >= len(b) {
				return Invalid
			}
			switch c := b[i]; c {
			case '{', '[':
				if depth >= maxDepth {
					return TooDeep
				}
				if c == '{' {
					objects[depth/64] |= 1 << (depth % 64)
				} else {
					objects[depth/64] &^= 1 << (depth % 64)
				}
				depth++
				i = skipWhitespace(b, i+1)
				if i < len(b) && b[i] == c+2 { // '}' or ']'
					depth--
					i++
					state = afterValue
				} else if c == '{' {
					state = wantKey
				}
				continue
			case '"':
				end, ok := stringEnd(b, i+1)
				if !ok {
					return Invalid
				}
				i = end
			case 't':
				if !hasLiteral(b, i, "true") {
					return Invalid
				}
				i += 4
			case 'f':
				if !hasLiteral(b, i, "false") {
					return Invalid
				}
				i += 5
			case 'n':
				if !hasLiteral(b, i, "null") {
					return Invalid
				}
				i += 4
			default:
				end, ok := numberEnd(b, i)
				if !ok {
					return Invalid
				}
				i = end
			}
			state = afterValue
		case wantKey:
			if i >= len(b) || b[i] != '"' {
				return Invalid
			}
			end, ok := stringEnd(b, i+1)
			if !ok {
				return Invalid
			}
			i = skipWhitespace(b, end)
			if i >= len(b) || b[i] != ':' {
				return Invalid
			}
			i = skipWhitespace(b, i+1)
			state = wantValue
		case afterValue:
			i = skipWhitespace(b, i)
			if depth == 0 {
				if i == len(b) {
					return Valid
				}
				return Invalid
			}
			if i >= len(b) {
				return Invalid
			}
			object := objects[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			switch b[i] {
			case ',':
				i = skipWhitespace(b, i+1)
				if object {
					state = wantKey
				} else {
					state = wantValue
				}
			case '}':
				if !object {
					return Invalid
				}
				depth--
				i++
			case ']':
				if object {
					return Invalid
				}
				depth--
				i++
			default:
				return Invalid
			}
		}
	}
}

func skipWhitespace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func hasLiteral(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// SWAR masks: a byte-wise "has zero byte" test finds the first byte of a
// word equal to a given one; the lowest flagged byte is always exact.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special flags, in each byte's high bit, the bytes of x that end a run of
// plain string contents: '"', '\\' and control characters (< 0x20).
func special(x uint64) uint64 {
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return ((q-ones)&^q | (bs-ones)&^bs | (x-ones*0x20)&^x) & highs
}

// stringEnd returns the index just past the string whose contents start at
// b[i], checking its escapes, or false when it is not a valid string.
func stringEnd(b []byte, i int) (int, bool) {
	for {
		for i+8 <= len(b) {
			m := special(binary.LittleEndian.Uint64(b[i:]))
			if m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(b) {
			return i, false
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		case c < 0x20:
			return i, false
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// numberEnd returns the index just past the number starting at b[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) || !isDigit(b[i]) {
		return i, false
	}
	if b[i] == '0' {
		i++
	} else {
		i = digitsEnd(b, i)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		i = digitsEnd(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		i = digitsEnd(b, i)
	}
	return i, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitsEnd(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}
