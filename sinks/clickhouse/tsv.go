package clickhouse

import (
	"bytes"
	"strconv"
)

// The embedded backend moves rows as ClickHouse's TabSeparated text: INSERT
// data inline after "FORMAT TabSeparated", SELECT output in the same format.
// Rows end with '\n', fields are separated by '\t', and inside a field the
// bytes \ \t \n \r \0 \b \f and ' are escaped with a backslash; NULL is \N.
// Arrays are written in ClickHouse's literal form ['a','b'] with the same
// escapes inside the quotes.

// appendTSVString appends s escaped as a TabSeparated field.
func appendTSVString(dst []byte, s string) []byte { return appendTSVEscaped(dst, s) }

func appendTSVBytes(dst, s []byte) []byte { return appendTSVEscaped(dst, s) }

// appendTSVEscaped appends s escaped: the runs that need no escape (most of
// a row, JSON properties above all) are found eight bytes at a time and
// appended whole.
func appendTSVEscaped[T ~string | ~[]byte](dst []byte, s T) []byte {
	clean := 0 // s[clean:i] needs no escape
	i := 0
	for i < len(s) {
		if i+8 <= len(s) && !wordNeedsEscape(word(s, i)) {
			i += 8
			continue
		}
		if e := tsvEscapes[s[i]]; e != 0 {
			dst = append(append(dst, s[clean:i]...), '\\', e)
			clean = i + 1
		}
		i++
	}
	return append(dst, s[clean:]...)
}

// word is s[i:i+8] as a little-endian integer (the compiler makes it one load).
func word[T ~string | ~[]byte](s T, i int) uint64 {
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

const (
	everyByte   = 0x0101010101010101
	everyTopBit = 0x8080808080808080
)

// wordNeedsEscape reports whether one of w's bytes may need an escape: one
// below 0x0e (the control bytes among the escaped ones are all there) or
// a backslash or a quote. A false alarm only costs the bytewise check.
func wordNeedsEscape(w uint64) bool {
	below := (w - everyByte*0x0e) &^ w & everyTopBit
	return below|hasByte(w, '\\')|hasByte(w, '\'') != 0
}

// hasByte is nonzero when one of w's bytes is b.
func hasByte(w uint64, b byte) uint64 {
	x := w ^ (everyByte * uint64(b))
	return (x - everyByte) &^ x & everyTopBit
}

// tsvEscapes is the letter that follows the backslash of an escaped byte,
// 0 for a byte written as it is.
var tsvEscapes = [256]byte{
	'\\': '\\', '\t': 't', '\n': 'n', '\r': 'r', 0: '0', '\b': 'b', '\f': 'f', '\'': '\'',
}

func appendTSVStringArray(dst []byte, a []string) []byte {
	dst = append(dst, '[')
	for i, s := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '\'')
		dst = appendTSVString(dst, s)
		dst = append(dst, '\'')
	}
	return append(dst, ']')
}

// appendTSVTime appends ms as "YYYY-MM-DD hh:mm:ss[.mmm]" (UTC): with
// milliseconds for DateTime64(3), without for DateTime. A bare integer would
// be ambiguous (DateTime64 does not read 0 as the epoch).
func appendTSVTime(dst []byte, ms int64, millis bool) []byte {
	t := storedTime(ms)
	// Digits written directly: time.Time.AppendFormat parses its layout on
	// every call, which was half the cost of an event's row.
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	dst = appendPadded(dst, y, 4)
	dst = appendPadded(append(dst, '-'), int(mo), 2)
	dst = appendPadded(append(dst, '-'), d, 2)
	dst = appendPadded(append(dst, ' '), h, 2)
	dst = appendPadded(append(dst, ':'), mi, 2)
	dst = appendPadded(append(dst, ':'), sec, 2)
	if millis {
		dst = appendPadded(append(dst, '.'), t.Nanosecond()/1e6, 3)
	}
	return dst
}

// appendPadded appends v (0 ≤ v < 10^width) in width digits, zeros first.
func appendPadded(dst []byte, v, width int) []byte {
	var b [4]byte
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:width]...)
}

func appendTSVUint(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }

// appendTSVValue appends a money value with two decimals, or \N.
func appendTSVValue(dst []byte, has bool, v float64) []byte {
	if !has {
		return append(dst, '\\', 'N')
	}
	return strconv.AppendFloat(dst, roundCents(v), 'f', 2, 64)
}

// parseTSV calls fn with the unescaped fields of every row of TabSeparated
// output. NULL stays `\N`.
func parseTSV(data []byte, fn func(row []string) error) error {
	var row []string
	var field []byte
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		row = row[:0]
		for {
			raw := line
			i := bytes.IndexByte(line, '\t')
			if i >= 0 {
				raw, line = line[:i], line[i+1:]
			}
			if string(raw) == nullText {
				row = append(row, nullText)
			} else {
				field = unescapeTSV(field[:0], raw)
				row = append(row, string(field))
			}
			if i < 0 {
				break
			}
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}

func unescapeTSV(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			dst = append(dst, '\t')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case '0':
			dst = append(dst, 0)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'a':
			dst = append(dst, '\a')
		case 'v':
			dst = append(dst, '\v')
		default: // \\ \' and anything else: the byte itself
			dst = append(dst, s[i])
		}
	}
	return dst
}
