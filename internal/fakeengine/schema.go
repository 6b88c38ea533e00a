package fakeengine

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// zodIssue is one schema failure as zod 4 writes it, keys in zod's order.
type zodIssue struct {
	Expected  string     `json:"expected,omitempty"`
	Origin    string     `json:"origin,omitempty"`
	Code      string     `json:"code"`
	Format    string     `json:"format,omitempty"`
	Pattern   string     `json:"pattern,omitempty"`
	Minimum   *int       `json:"minimum,omitempty"`
	Maximum   *int       `json:"maximum,omitempty"`
	Inclusive *bool      `json:"inclusive,omitempty"`
	Issues    []zodIssue `json:"issues,omitempty"`
	Path      []any      `json:"path"`
	Message   string     `json:"message"`
}

type zodError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

type zodEnvelope struct {
	Success bool     `json:"success"`
	Error   zodError `json:"error"`
}

// zodAnswer is @hono/zod-openapi's default 400: the issues as
// JSON.stringify(issues, null, 2) inside a ZodError (docs/contracts/hogsend-api.md §1.2).
func zodAnswer(issues []zodIssue) answer {
	var text bytes.Buffer
	enc := json.NewEncoder(&text)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(issues)
	return ok(http.StatusBadRequest, zodEnvelope{Error: zodError{Name: "ZodError", Message: strings.TrimSuffix(text.String(), "\n")}})
}

// schema checks one JSON object field by field, in the schema's order,
// collecting every issue as zod does.
type schema struct {
	obj    map[string]any
	issues []zodIssue
}

// newSchema starts checking v, which must be an object.
func newSchema(v any) *schema {
	obj, isObj := v.(map[string]any)
	s := &schema{obj: obj}
	if !isObj {
		s.obj = map[string]any{}
		s.issues = append(s.issues, typeIssue(nil, "object", v))
	}
	return s
}

func (s *schema) failed() bool { return len(s.issues) > 0 }

func (s *schema) answer() answer { return zodAnswer(s.issues) }

// typeName is how zod 4 names a received value.
func typeName(v any, present bool) string {
	switch v.(type) {
	case nil:
		if !present {
			return "undefined"
		}
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	default:
		return "object"
	}
}

func pathOf(path []string) []any {
	p := make([]any, len(path))
	for i, s := range path {
		p[i] = s
	}
	return p
}

func typeIssue(path []string, expected string, v any) zodIssue {
	return typeIssueOf(path, expected, typeName(v, true))
}

func typeIssueOf(path []string, expected, received string) zodIssue {
	return zodIssue{Expected: expected, Code: "invalid_type", Path: pathOf(path),
		Message: "Invalid input: expected " + expected + ", received " + received}
}

func bound(n int) *int { return &n }

var yes = func() *bool { b := true; return &b }()

func tooSmallIssue(path []string, min int) zodIssue {
	return zodIssue{Origin: "string", Code: "too_small", Minimum: bound(min), Inclusive: yes, Path: pathOf(path),
		Message: "Too small: expected string to have >=" + strconv.Itoa(min) + " characters"}
}

func tooBigIssue(path []string, max int) zodIssue {
	return zodIssue{Origin: "string", Code: "too_big", Maximum: bound(max), Inclusive: yes, Path: pathOf(path),
		Message: "Too big: expected string to have <=" + strconv.Itoa(max) + " characters"}
}

func formatIssue(path []string, format, pattern, message string) zodIssue {
	return zodIssue{Origin: "string", Code: "invalid_format", Format: format, Pattern: pattern, Path: pathOf(path), Message: message}
}

// get returns a field; absent and undefined are the same to zod.
func (s *schema) get(name string) (any, bool) {
	v, present := s.obj[name]
	return v, present
}

// str checks an optional string of min..max characters (max 0: no bound).
func (s *schema) str(name string, min, max int) (string, bool) {
	v, present := s.get(name)
	if !present {
		return "", false
	}
	str, isStr := v.(string)
	if !isStr {
		s.issues = append(s.issues, typeIssue([]string{name}, "string", v))
		return "", false
	}
	n := utf16Len(str)
	switch {
	case n < min:
		s.issues = append(s.issues, tooSmallIssue([]string{name}, min))
		return "", false
	case max > 0 && n > max:
		s.issues = append(s.issues, tooBigIssue([]string{name}, max))
		return "", false
	}
	return str, true
}

// requiredStr is str for a field the schema requires.
func (s *schema) requiredStr(name string, min int) (string, bool) {
	if _, present := s.get(name); !present {
		s.issues = append(s.issues, typeIssueOf([]string{name}, "string", "undefined"))
		return "", false
	}
	return s.str(name, min, 0)
}

// utf16Len counts characters as JavaScript's length does.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if utf8.RuneLen(r) == 4 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// zod 4's email pattern, as its issues print it; Go's regexp has no
// lookahead, so the two leading (?!…) are checked apart.
const emailPattern = `/^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$/`

var emailRE = regexp.MustCompile(`^([A-Za-z0-9_'+\-.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)

func validEmail(e string) bool {
	return !strings.HasPrefix(e, ".") && !strings.Contains(e, "..") && emailRE.MatchString(e)
}

// email checks an optional zod .email() string.
func (s *schema) email(name string) (string, bool) {
	e, present := s.str(name, 0, 0)
	if !present {
		return "", false
	}
	if !validEmail(e) {
		s.issues = append(s.issues, formatIssue([]string{name}, "email", emailPattern, "Invalid email address"))
		return "", false
	}
	return e, true
}

// match checks an optional string against re, printed as pattern.
func (s *schema) match(name string, re *regexp.Regexp, pattern string) (string, bool) {
	v, present := s.str(name, 0, 0)
	if !present {
		return "", false
	}
	if !re.MatchString(v) {
		s.issues = append(s.issues, formatIssue([]string{name}, "regex", pattern, "Invalid string: must match pattern "+pattern))
		return "", false
	}
	return v, true
}

var datetimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$`)

// datetime checks an optional zod datetime(): UTC with Z, any fraction
// digits, no offset (docs/contracts/hogsend-api.md §5.1).
func (s *schema) datetime(name string) (time.Time, bool) {
	v, present := s.str(name, 0, 0)
	if !present {
		return time.Time{}, false
	}
	t, good := parseDatetime(v)
	if !good {
		s.issues = append(s.issues, formatIssue([]string{name}, "datetime", "", "Invalid ISO datetime"))
	}
	return t, good
}

func parseDatetime(v string) (time.Time, bool) {
	if !datetimeRE.MatchString(v) {
		return time.Time{}, false
	}
	body := strings.TrimSuffix(v, "Z")
	layout := "2006-01-02T15:04:05.999999999"
	switch {
	case len(body) == 16:
		layout = "2006-01-02T15:04"
	case len(body) == 19:
		layout = "2006-01-02T15:04:05"
	case len(body) > 29:
		body = body[:29]
	}
	t, err := time.Parse(layout, body)
	return t.UTC(), err == nil
}

// record checks an optional object of any values.
func (s *schema) record(name string) (map[string]any, bool) {
	v, present := s.get(name)
	if !present {
		return nil, false
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		s.issues = append(s.issues, typeIssue([]string{name}, "record", v))
		return nil, false
	}
	return m, true
}

// boolRecord checks an optional object of booleans.
func (s *schema) boolRecord(name string) (map[string]bool, bool) {
	m, present := s.record(name)
	if !present {
		return nil, false
	}
	out := make(map[string]bool, len(m))
	before := len(s.issues)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		b, isBool := v.(bool)
		if !isBool {
			s.issues = append(s.issues, typeIssue([]string{name, k}, "boolean", v))
			continue
		}
		out[k] = b
	}
	return out, len(s.issues) == before
}

// stringRecord checks an optional object of non-empty strings under
// non-empty keys, as the events schema's groups.
func (s *schema) stringRecord(name string) (map[string]string, bool) {
	m, present := s.record(name)
	if !present {
		return nil, false
	}
	out := make(map[string]string, len(m))
	before := len(s.issues)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if k == "" {
			s.issues = append(s.issues, zodIssue{Origin: "record", Code: "invalid_key", Path: pathOf([]string{name, k}),
				Issues: []zodIssue{tooSmallIssue(nil, 1)}, Message: "Invalid key in record"})
			continue
		}
		str, isStr := v.(string)
		switch {
		case !isStr:
			s.issues = append(s.issues, typeIssue([]string{name, k}, "string", v))
		case str == "":
			s.issues = append(s.issues, tooSmallIssue([]string{name, k}, 1))
		default:
			out[k] = str
		}
	}
	return out, len(s.issues) == before
}

// number checks an optional finite number.
func (s *schema) number(name string) (float64, bool) {
	v, present := s.get(name)
	if !present {
		return 0, false
	}
	f, isNum := v.(float64)
	if !isNum {
		s.issues = append(s.issues, typeIssue([]string{name}, "number", v))
	}
	return f, isNum
}

// boolean checks an optional boolean.
func (s *schema) boolean(name string) (bool, bool) {
	v, present := s.get(name)
	if !present {
		return false, false
	}
	b, isBool := v.(bool)
	if !isBool {
		s.issues = append(s.issues, typeIssue([]string{name}, "boolean", v))
	}
	return b, isBool
}

// array checks an optional array.
func (s *schema) array(name string) ([]any, bool) {
	v, present := s.get(name)
	if !present {
		return nil, false
	}
	a, isArr := v.([]any)
	if !isArr {
		s.issues = append(s.issues, typeIssue([]string{name}, "array", v))
	}
	return a, isArr
}

// custom adds a refinement's issue, as zod's .refine writes it.
func (s *schema) custom(path []string, message string) {
	s.issues = append(s.issues, zodIssue{Code: "custom", Path: pathOf(path), Message: message})
}
