package clickhouse

import (
	"bytes"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// The embedded backend moves rows as ClickHouse's TabSeparated text: INSERT
// data inline after "FORMAT TabSeparated", SELECT output in the same format.
// Rows end with '\n', fields are separated by '\t', and inside a field the
// bytes \ \t \n \r \0 \b \f and ' are escaped with a backslash; NULL is \N.
// Arrays are written in ClickHouse's literal form ['a','b'] with the same
// escapes inside the quotes.

// appendTSVString appends s escaped as a TabSeparated field.
func appendTSVString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = appendTSVByte(dst, s[i])
	}
	return dst
}

func appendTSVBytes(dst, s []byte) []byte {
	for _, c := range s {
		dst = appendTSVByte(dst, c)
	}
	return dst
}

func appendTSVByte(dst []byte, c byte) []byte {
	switch c {
	case '\\':
		return append(dst, '\\', '\\')
	case '\t':
		return append(dst, '\\', 't')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case 0:
		return append(dst, '\\', '0')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\'':
		return append(dst, '\\', '\'')
	}
	return append(dst, c)
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

func appendTSVUUID(dst []byte, u uuid.UUID) []byte {
	var b [36]byte
	// uuid.UUID.String allocates; encode into a stack buffer instead.
	const hex = "0123456789abcdef"
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	return append(dst, b[:]...)
}

// appendTSVTime appends ms as "YYYY-MM-DD hh:mm:ss[.mmm]" (UTC): with
// milliseconds for DateTime64(3), without for DateTime. A bare integer would
// be ambiguous (DateTime64 does not read 0 as the epoch).
func appendTSVTime(dst []byte, ms int64, millis bool) []byte {
	t := time.UnixMilli(clampMillis(ms)).UTC()
	if millis {
		return t.AppendFormat(dst, "2006-01-02 15:04:05.000")
	}
	return t.AppendFormat(dst, "2006-01-02 15:04:05")
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
