package native

import (
	"errors"
	"strconv"

	"github.com/hogsend/hogsend-proxy/translate/jsontext"
	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// Errors a native request body is refused with, in upstream's exact wording;
// the proxy maps them to statuses. The strings are wire contract, hence the
// capitals.
var (
	ErrMalformedJSON    = errors.New("Malformed JSON in request body") //nolint:staticcheck // wire string
	ErrIdentityRequired = errors.New("email or userId is required")    //nolint:staticcheck
)

// Issue is one schema validation failure, shaped like a zod 4 issue so that
// @hogsend/client recognises the envelope.
type Issue struct {
	Code     string // invalid_type, invalid_format, too_small, too_big, invalid_key
	Origin   string // string, number, record (omitted when empty)
	Expected string // for invalid_type
	Format   string // for invalid_format
	Pattern  string // for invalid_format
	Minimum  int    // for too_small
	Maximum  int    // for too_big
	HasBound bool
	Path     []string
	Message  string
}

// ValidationError is a failed schema check: 400 with the zod envelope.
type ValidationError struct{ Issues []Issue }

func (e *ValidationError) Error() string {
	if len(e.Issues) == 0 {
		return "validation failed"
	}
	return "validation failed: " + e.Issues[0].Message
}

// AppendZodEnvelope appends the upstream 400 body:
// {"success":false,"error":{"name":"ZodError","message":"<JSON array of issues>"}}.
func (e *ValidationError) AppendZodEnvelope(dst []byte) []byte {
	issues := e.appendIssues(nil)
	dst = append(dst, `{"success":false,"error":{"name":"ZodError","message":`...)
	dst = jsontext.AppendString(dst, string(issues))
	return append(dst, "}}"...)
}

// appendIssues writes the issue array the way zod's JSON.stringify(issues, null, 2)
// would, key order included.
func (e *ValidationError) appendIssues(dst []byte) []byte {
	dst = append(dst, '[')
	for i, is := range e.Issues {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		first := true
		kv := func(k string, v []byte) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = jsontext.AppendString(dst, k)
			dst = append(dst, ':')
			dst = append(dst, v...)
		}
		str := func(s string) []byte { return jsontext.AppendString(nil, s) }
		if is.Expected != "" {
			kv("expected", str(is.Expected))
		}
		if is.Origin != "" {
			kv("origin", str(is.Origin))
		}
		kv("code", str(is.Code))
		if is.Format != "" {
			kv("format", str(is.Format))
		}
		if is.Pattern != "" {
			kv("pattern", str(is.Pattern))
		}
		if is.HasBound && is.Code == "too_small" {
			kv("minimum", strconv.AppendInt(nil, int64(is.Minimum), 10))
			kv("inclusive", []byte("true"))
		}
		if is.HasBound && is.Code == "too_big" {
			kv("maximum", strconv.AppendInt(nil, int64(is.Maximum), 10))
			kv("inclusive", []byte("true"))
		}
		path := []byte{'['}
		for j, p := range is.Path {
			if j > 0 {
				path = append(path, ',')
			}
			path = jsontext.AppendString(path, p)
		}
		path = append(path, ']')
		kv("path", path)
		kv("message", str(is.Message))
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func typeIssue(path []string, expected, received string) Issue {
	return Issue{Code: "invalid_type", Expected: expected, Path: path,
		Message: "Invalid input: expected " + expected + ", received " + received}
}

func tooSmall(path []string, min int) Issue {
	return Issue{Code: "too_small", Origin: "string", Minimum: min, HasBound: true, Path: path,
		Message: "Too small: expected string to have >=" + strconv.Itoa(min) + " characters"}
}

func tooBig(path []string, max int) Issue {
	return Issue{Code: "too_big", Origin: "string", Maximum: max, HasBound: true, Path: path,
		Message: "Too big: expected string to have <=" + strconv.Itoa(max) + " characters"}
}

// zod 4's email pattern, as its issues print it.
const emailPattern = `/^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$/`

func emailIssue(path []string) Issue {
	return Issue{Code: "invalid_format", Origin: "string", Format: "email", Pattern: emailPattern, Path: path,
		Message: "Invalid email address"}
}

const currencyPattern = `/^[A-Za-z]{3}$/`

func currencyIssue(path []string) Issue {
	return Issue{Code: "invalid_format", Origin: "string", Format: "regex", Pattern: currencyPattern, Path: path,
		Message: "Invalid string: must match pattern " + currencyPattern}
}

func datetimeIssue(path []string) Issue {
	return Issue{Code: "invalid_format", Origin: "string", Format: "datetime", Path: path,
		Message: "Invalid ISO datetime"}
}

func keyIssue(path []string) Issue {
	return Issue{Code: "invalid_key", Origin: "record", Path: path, Message: "Invalid key in record"}
}

// Limits bounds the records of native request bodies (properties,
// eventProperties, contactProperties) as HOGSEND_MAX_PROPERTIES and
// HOGSEND_MAX_PROPERTY_BYTES bound PostHog's; zero fields take PostHog's
// defaults. Its Parse methods are the package functions of the same names
// under these bounds.
type Limits struct {
	MaxProperties    int // members of one record
	MaxPropertyBytes int // JSON text of one member's value
}

func (l Limits) withDefaults() Limits {
	if l.MaxProperties <= 0 {
		l.MaxProperties = posthog.DefaultMaxProperties
	}
	if l.MaxPropertyBytes <= 0 {
		l.MaxPropertyBytes = posthog.DefaultMaxPropertyBytes
	}
	return l
}

// tooManyMembers is zod's shape for a failed refinement of a record.
func tooManyMembers(path []string, max int) Issue {
	return Issue{Code: "custom", Path: path,
		Message: "Too many properties: expected at most " + strconv.Itoa(max)}
}

func valueTooLarge(path []string, size, max int) Issue {
	return Issue{Code: "custom", Path: path,
		Message: "Property value too large: " + strconv.Itoa(size) + " bytes, expected at most " + strconv.Itoa(max)}
}
