package posthog

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// A walker over JSON text that jsontext.Validate has accepted: it yields an
// object's members or an array's elements as gjson.Results, like
// gjson.Result.ForEach, but skips values with a vectorised search for each
// string's closing quote instead of a byte-by-byte scan. Event properties
// are mostly string bytes, and the payload parser reads each event and its
// properties once; with gjson they were scanned three times over.

// members walks the object opening at s[i], calling fn with each key and
// the index of its value; fn returns the index just past the value (from
// valueAt or skipValue, or from walking it). members returns the index
// just past the object.
func members(s string, i int, fn func(key string, at int) int) int {
	i++ // '{'
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return i
		}
		switch s[i] {
		case '}':
			return i + 1
		case ',':
			i++
			continue
		}
		end := stringEnd(s, i)
		key := unquote(s[i:end])
		i = skipSpace(s, end)
		if i < len(s) && s[i] == ':' {
			i++
		}
		i = fn(key, skipSpace(s, i))
	}
}

// elements walks the array opening at s[i], calling fn with the index of
// each element; fn returns the index just past it. elements returns the
// index just past the array.
func elements(s string, i int, fn func(at int) int) int {
	i++ // '['
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return i
		}
		switch s[i] {
		case ']':
			return i + 1
		case ',':
			i++
			continue
		}
		i = fn(i)
	}
}

// skipValue returns the index just past the value starting at s[i].
func skipValue(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case '{', '[':
		return containerEnd(s, i)
	case 't', 'n':
		return i + 4
	case 'f':
		return i + 5
	}
	return numberEnd(s, i)
}

func numberEnd(s string, i int) int {
	end := i + 1
	for end < len(s) {
		switch s[end] {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '-', '.', 'e', 'E':
			end++
			continue
		}
		break
	}
	return end
}

// valueAt reads the value starting at s[i] and returns it with the index
// just past it.
func valueAt(s string, i int) (gjson.Result, int) {
	if i >= len(s) {
		return gjson.Result{}, i
	}
	switch c := s[i]; {
	case c == '"':
		end := stringEnd(s, i)
		raw := s[i:end]
		return gjson.Result{Type: gjson.String, Raw: raw, Str: unquote(raw), Index: i}, end
	case c == '{' || c == '[':
		end := containerEnd(s, i)
		return gjson.Result{Type: gjson.JSON, Raw: s[i:end], Index: i}, end
	case c == 't':
		return gjson.Result{Type: gjson.True, Raw: s[i : i+4], Index: i}, i + 4
	case c == 'f':
		return gjson.Result{Type: gjson.False, Raw: s[i : i+5], Index: i}, i + 5
	case c == 'n':
		return gjson.Result{Type: gjson.Null, Raw: s[i : i+4], Index: i}, i + 4
	default:
		end := numberEnd(s, i)
		raw := s[i:end]
		num, _ := strconv.ParseFloat(raw, 64)
		return gjson.Result{Type: gjson.Number, Raw: raw, Num: num, Index: i}, end
	}
}

// stringEnd returns the index just past the string whose opening quote is
// s[i]: after the first quote not escaped by an odd run of backslashes.
// Short strings (most keys and values) end within a plain loop; longer ones
// are searched with the vectorised IndexByte.
func stringEnd(s string, i int) int {
	j := i + 1
	for limit := min(len(s), i+24); j < limit; j++ {
		switch s[j] {
		case '"':
			return j + 1
		case '\\':
			j++
		}
	}
	if j >= len(s) {
		return len(s)
	}
	from := j
	for {
		j := strings.IndexByte(s[from:], '"')
		if j < 0 {
			return len(s)
		}
		q := from + j
		n := 0
		for k := q - 1; k > i && s[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		from = q + 1
	}
}

// containerEnd returns the index just past the object or array opening at
// s[i].
func containerEnd(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '"':
			i = stringEnd(s, i) - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

// unquote returns the text of a JSON string literal (with its quotes).
func unquote(raw string) string {
	if len(raw) < 2 {
		return ""
	}
	inner := raw[1 : len(raw)-1]
	if strings.IndexByte(inner, '\\') < 0 {
		return inner
	}
	return gjson.Parse(raw).Str
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
