package googleadsfake

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// violation is a body the JSON parser itself refuses: Google answers those
// with a whole-request 400 (google.rpc.BadRequest), partial failure or not.
type violation struct {
	field, description string
}

// object is one JSON object of the request with its keys in canonical
// lowerCamelCase: Google's parser accepts the proto snake_case names too
// (docs/contracts/ad-platforms.md §3.2), so both spellings map to one field.
type object struct {
	path   string // snake_case path for messages, "conversions[0]"
	fields map[string]json.RawMessage
}

func decodeObject(raw json.RawMessage, path string, known []string) (object, *violation) {
	o := object{path: path, fields: map[string]json.RawMessage{}}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return o, &violation{path, fmt.Sprintf("Invalid value at '%s', expected an object: %s", path, clip(raw))}
	}
	for k, v := range m {
		c := camel(k)
		if !slices.Contains(known, c) {
			return o, &violation{path, fmt.Sprintf("Invalid JSON payload received. Unknown name %q at '%s': Cannot find field.", k, path)}
		}
		if _, dup := o.fields[c]; dup {
			return o, &violation{path, fmt.Sprintf("Invalid JSON payload received. Field %q at '%s' is set twice (camelCase and snake_case).", k, path)}
		}
		if string(v) != "null" { // proto3 JSON: null is the default value
			o.fields[c] = v
		}
	}
	return o, nil
}

func (o object) has(name string) bool { _, ok := o.fields[name]; return ok }

func (o object) at(name string) string {
	if o.path == "" {
		return snake(name)
	}
	return o.path + "." + snake(name)
}

func (o object) bad(name, typ string) *violation {
	return &violation{o.at(name), fmt.Sprintf("Invalid value at '%s' (%s), %s", o.at(name), typ, clip(o.fields[name]))}
}

func (o object) str(name string) (string, *violation) {
	raw, ok := o.fields[name]
	if !ok {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", o.bad(name, "TYPE_STRING")
	}
	return s, nil
}

func (o object) boolean(name string) (bool, *violation) {
	raw, ok := o.fields[name]
	if !ok {
		return false, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) != nil {
		return false, o.bad(name, "TYPE_BOOL")
	}
	return b, nil
}

// double reads a proto double: a JSON number or a numeric string.
func (o object) double(name string) (float64, *violation) {
	raw, ok := o.fields[name]
	if !ok {
		return 0, nil
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return f, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, nil
		}
	}
	return 0, o.bad(name, "TYPE_DOUBLE")
}

// integer reads a proto int32/int64: a JSON integer or a string of one.
func (o object) integer(name string) (int64, *violation) {
	raw, ok := o.fields[name]
	if !ok {
		return 0, nil
	}
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return n, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, o.bad(name, "TYPE_INT64")
}

func (o object) enum(name, typ string, allowed ...string) (string, *violation) {
	s, v := o.str(name)
	if v != nil || !o.has(name) {
		return s, v
	}
	if !slices.Contains(allowed, s) {
		return "", o.bad(name, typ)
	}
	return s, nil
}

func (o object) array(name string) ([]json.RawMessage, *violation) {
	raw, ok := o.fields[name]
	if !ok {
		return nil, nil
	}
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) != nil {
		return nil, o.bad(name, "TYPE_MESSAGE, repeated")
	}
	return a, nil
}

// camel maps a proto field name to its JSON name: "order_id" → "orderId";
// a name already in camelCase is unchanged.
func camel(s string) string {
	var b strings.Builder
	up := false
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// snake maps a JSON name back to the proto name Google's messages use.
func snake(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func clip(raw json.RawMessage) string {
	s := string(raw)
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return s
}
