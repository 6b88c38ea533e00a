// Package native is the wire format of the Hogsend data API: it validates
// request bodies the way upstream's zod schemas do and turns them into the
// inputs of ingestion (ContactUpsert, EventInput, ContactKeys).
package native

import (
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

// Native request bodies are validated the way upstream's zod schemas do (unknown
// fields dropped, the first failing field reported with zod's issue shape) and
// read with gjson straight from the request bytes.

// maxValue is the largest magnitude user_events.value (Decimal(14,2)) holds.
const maxValue = 999_999_999_999.99

// ListFlag is one list opt-in (true) or opt-out (false).
type ListFlag struct {
	ID         string
	Subscribed bool
}

// ContactUpsert is a validated PUT /v1/contacts body.
type ContactUpsert struct {
	Email       string // trimmed, lower-cased
	UserID      string // trimmed
	AnonymousID string // trimmed
	Properties  []identity.Prop
	Lists       []ListFlag
	HasLists    bool
	UserToken   string
}

// EventInput is a validated POST /v1/events body.
type EventInput struct {
	Name              string
	Email             string
	UserID            string
	AnonymousID       string
	EventProperties   []byte // JSON object text
	ContactProperties []identity.Prop
	HasValue          bool
	Value             float64
	Currency          string // upper-cased; empty when no value
	Groups            []byte // JSON object text
	Lists             []ListFlag
	HasLists          bool
	IdempotencyKey    string
	Timestamp         int64 // Unix ms; 0 = receive time
	UserToken         string
}

// ContactKeys is a validated DELETE /v1/contacts body or find query.
type ContactKeys struct {
	Email  string
	UserID string
}

// IsJSONContentType reports whether the request's Content-Type selects JSON
// parsing: application/json with optional parameters. Upstream skips body
// validation for anything else and sees an empty object.
func IsJSONContentType(ct []byte) bool {
	s := string(ct)
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	return strings.EqualFold(strings.TrimSpace(s), "application/json")
}

// replaceInvalidUTF8 turns each invalid byte into U+FFFD, as a WHATWG
// TextDecoder does (bytes.ToValidUTF8 would fold a run into one).
func replaceInvalidUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

// MaxJSONDepth bounds the nesting of accepted JSON (jsontext.Validate).
const MaxJSONDepth = jsontext.MaxDepth

// ErrTooDeep refuses JSON nested deeper than MaxJSONDepth.
var ErrTooDeep = errors.New("JSON nested too deeply") //nolint:staticcheck // wire string

// parseObject checks body is well-formed JSON holding an object. Invalid UTF-8
// becomes U+FFFD, as the upstream runtime's text decoding does.
func parseObject(body []byte) (gjson.Result, error) {
	if !utf8.Valid(body) {
		body = replaceInvalidUTF8(body)
	}
	switch jsontext.Validate(body, MaxJSONDepth) {
	case jsontext.Invalid:
		return gjson.Result{}, ErrMalformedJSON
	case jsontext.TooDeep:
		return gjson.Result{}, ErrTooDeep
	}
	root := gjson.Parse(string(body))
	if !root.IsObject() {
		return root, &ValidationError{Issues: []Issue{typeIssue([]string{}, "object", received(root))}}
	}
	return root, nil
}

func received(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return "null"
	case gjson.False, gjson.True:
		return "boolean"
	case gjson.Number:
		return "number"
	case gjson.String:
		return "string"
	}
	if v.IsArray() {
		return "array"
	}
	return "object"
}

type checker struct{ issues []Issue }

func (c *checker) add(is Issue) { c.issues = append(c.issues, is) }

func (c *checker) err() error {
	if len(c.issues) == 0 {
		return nil
	}
	return &ValidationError{Issues: c.issues}
}

// str validates an optional string field; ok is false when absent or invalid.
func (c *checker) str(f *fieldSet, name string, min, max int) (string, bool) {
	v, ok := f.get(name)
	if !ok {
		return "", false
	}
	if v.Type != gjson.String {
		c.add(typeIssue([]string{name}, "string", received(v)))
		return "", false
	}
	s := v.Str
	n := utf16Len(s)
	if min > 0 && n < min {
		c.add(tooSmall([]string{name}, min))
		return "", false
	}
	if max > 0 && n > max {
		c.add(tooBig([]string{name}, max))
		return "", false
	}
	return s, true
}

// utf16Len is JavaScript's string length, which zod's bounds count.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func (c *checker) email(f *fieldSet) string {
	s, ok := c.str(f, "email", 0, 0)
	if !ok {
		return ""
	}
	if !ValidEmail(s) {
		c.add(emailIssue([]string{"email"}))
		return ""
	}
	return identity.NormalizeEmail(s)
}

// record is object under the limits: at most MaxProperties members, none
// whose value's JSON text is over MaxPropertyBytes. The walk stops at the
// first member past either; n is the members walked.
func (c *checker) record(f *fieldSet, name string, l Limits) (v gjson.Result, n int, ok bool) {
	v, ok = c.object(f, name)
	if !ok {
		return v, 0, false
	}
	v.ForEach(func(k, val gjson.Result) bool {
		if n++; n > l.MaxProperties {
			c.add(tooManyMembers([]string{name}, l.MaxProperties))
			ok = false
		} else if len(val.Raw) > l.MaxPropertyBytes {
			c.add(valueTooLarge([]string{name, k.String()}, len(val.Raw), l.MaxPropertyBytes))
			ok = false
		}
		return ok
	})
	return v, n, ok
}

// object validates an optional record field and returns it.
func (c *checker) object(f *fieldSet, name string) (gjson.Result, bool) {
	v, ok := f.get(name)
	if !ok {
		return v, false
	}
	if !v.IsObject() {
		c.add(typeIssue([]string{name}, "record", received(v)))
		return v, false
	}
	return v, true
}

// props are the members of the record v, n of them, their values views of
// the body's text.
func props(v gjson.Result, n int) []identity.Prop {
	if n == 0 {
		return nil
	}
	out := make([]identity.Prop, 0, n)
	v.ForEach(func(k, val gjson.Result) bool {
		p := identity.Prop{Name: k.String()}
		if val.Type != gjson.Null {
			p.Value = rawBytes(val.Raw)
		}
		out = append(out, p)
		return true
	})
	return out
}

func (c *checker) lists(f *fieldSet) ([]ListFlag, bool) {
	v, ok := c.object(f, "lists")
	if !ok {
		return nil, false
	}
	var out []ListFlag
	v.ForEach(func(k, val gjson.Result) bool {
		if val.Type != gjson.True && val.Type != gjson.False {
			c.add(typeIssue([]string{"lists", k.String()}, "boolean", received(val)))
			return true
		}
		out = append(out, ListFlag{ID: k.String(), Subscribed: val.Type == gjson.True})
		return true
	})
	return out, true
}

func (c *checker) identity(f *fieldSet) (email, userID, anonymousID string) {
	email = c.email(f)
	if s, ok := c.str(f, "userId", 1, 0); ok {
		userID = identity.NormalizeID(s)
	}
	if s, ok := c.str(f, "anonymousId", 1, 200); ok {
		anonymousID = identity.NormalizeID(s)
	}
	return email, userID, anonymousID
}

// ParseContactUpsert validates a PUT /v1/contacts body from a secret key.
// isJSON is false when the Content-Type was not JSON: upstream then sees an
// empty body.
func ParseContactUpsert(body []byte, isJSON bool) (ContactUpsert, error) {
	return Limits{}.ParseContactUpsert(body, isJSON)
}

// ParsePublishableContactUpsert is ParseContactUpsert for a pk_ key, which may
// write with anonymousId alone.
func ParsePublishableContactUpsert(body []byte, isJSON bool) (ContactUpsert, error) {
	return Limits{}.ParsePublishableContactUpsert(body, isJSON)
}

// ParseContactUpsert is the package's ParseContactUpsert under l.
func (l Limits) ParseContactUpsert(body []byte, isJSON bool) (ContactUpsert, error) {
	return parseContactUpsert(body, isJSON, false, l.withDefaults())
}

// ParsePublishableContactUpsert is the package's ParsePublishableContactUpsert
// under l.
func (l Limits) ParsePublishableContactUpsert(body []byte, isJSON bool) (ContactUpsert, error) {
	return parseContactUpsert(body, isJSON, true, l.withDefaults())
}

func parseContactUpsert(body []byte, isJSON, anonymousOK bool, l Limits) (ContactUpsert, error) {
	var u ContactUpsert
	if !isJSON {
		return u, ErrIdentityRequired
	}
	root, err := parseObject(body)
	if err != nil {
		return u, err
	}
	f := &fieldSet{}
	fields(root, f)
	var c checker
	u.Email, u.UserID, u.AnonymousID = c.identity(f)
	if p, n, ok := c.record(f, "properties", l); ok {
		u.Properties = props(p, n)
	}
	u.Lists, u.HasLists = c.lists(f)
	u.UserToken, _ = c.str(f, "userToken", 0, 0)
	if err := c.err(); err != nil {
		return u, err
	}
	if u.Email == "" && u.UserID == "" && (!anonymousOK || u.AnonymousID == "") {
		return u, ErrIdentityRequired
	}
	return u, nil
}

// ParseEvent validates a POST /v1/events body from a secret key; headerKey is
// the Idempotency-Key header, which wins over the body field.
func ParseEvent(body []byte, isJSON bool, headerKey string) (EventInput, error) {
	return Limits{}.ParseEvent(body, isJSON, headerKey)
}

// ParsePublishableEvent is ParseEvent for a pk_ key, which may send events
// with anonymousId alone.
func ParsePublishableEvent(body []byte, isJSON bool, headerKey string) (EventInput, error) {
	return Limits{}.ParsePublishableEvent(body, isJSON, headerKey)
}

// ParseEvent is the package's ParseEvent under l.
func (l Limits) ParseEvent(body []byte, isJSON bool, headerKey string) (EventInput, error) {
	return parseEvent(body, isJSON, headerKey, false, l.withDefaults())
}

// ParsePublishableEvent is the package's ParsePublishableEvent under l.
func (l Limits) ParsePublishableEvent(body []byte, isJSON bool, headerKey string) (EventInput, error) {
	return parseEvent(body, isJSON, headerKey, true, l.withDefaults())
}

func parseEvent(body []byte, isJSON bool, headerKey string, anonymousOK bool, l Limits) (EventInput, error) {
	var e EventInput
	if !isJSON {
		return e, ErrIdentityRequired
	}
	root, err := parseObject(body)
	if err != nil {
		return e, err
	}
	f := &fieldSet{}
	fields(root, f)
	var c checker
	if _, ok := f.get("name"); !ok {
		c.add(typeIssue([]string{"name"}, "string", "undefined"))
	} else {
		e.Name, _ = c.str(f, "name", 1, 0)
	}
	e.Email, e.UserID, e.AnonymousID = c.identity(f)
	e.EventProperties = emptyObject()
	if p, _, ok := c.record(f, "eventProperties", l); ok {
		e.EventProperties = rawBytes(p.Raw)
	}
	if p, n, ok := c.record(f, "contactProperties", l); ok {
		e.ContactProperties = props(p, n)
	}
	e.HasValue, e.Value = c.value(f)
	e.Currency = c.currency(f)
	e.Lists, e.HasLists = c.lists(f)
	e.Groups = emptyObject()
	if g, ok := c.object(f, "groups"); ok {
		e.Groups = c.groups(g)
	}
	bodyKey, _ := c.str(f, "idempotencyKey", 0, 0)
	if s, ok := c.str(f, "timestamp", 0, 0); ok {
		if ms, ok := ParseISODatetime(s); ok {
			e.Timestamp = ms
		} else {
			c.add(datetimeIssue([]string{"timestamp"}))
		}
	}
	e.UserToken, _ = c.str(f, "userToken", 0, 0)
	if err := c.err(); err != nil {
		return e, err
	}
	if e.Email == "" && e.UserID == "" && (!anonymousOK || e.AnonymousID == "") {
		return e, ErrIdentityRequired
	}
	if !e.HasValue {
		e.Currency = "" // upstream ignores currency without a value
	}
	e.IdempotencyKey = nativeIdempotencyKey(bodyKey)
	if headerKey != "" {
		e.IdempotencyKey = nativeIdempotencyKey(headerKey)
	}
	return e, nil
}

// nativeKeyPrefix escapes a native Idempotency-Key that starts with a
// reserved prefix ("ph:", PostHog's uuid claims, or this one).
const nativeKeyPrefix = "native:"

// nativeIdempotencyKey is the claim (and stored) form of a native key: the key
// itself, as rows stored before namespaces hold it, unless it starts with a
// reserved prefix, which gets nativeKeyPrefix in front. The mapping is
// one-to-one and never yields a "ph:" key, so a native key cannot take the
// slot of a PostHog uuid claim.
func nativeIdempotencyKey(k string) string {
	if strings.HasPrefix(k, "ph:") || strings.HasPrefix(k, nativeKeyPrefix) {
		return nativeKeyPrefix + k
	}
	return k
}

// value validates the optional number field "value".
func (c *checker) value(f *fieldSet) (bool, float64) {
	v, ok := f.get("value")
	switch {
	case !ok:
		return false, 0
	case v.Type != gjson.Number || math.IsInf(v.Num, 0) || math.IsNaN(v.Num):
		c.add(typeIssue([]string{"value"}, "number", received(v)))
	case math.Abs(v.Num) > maxValue:
		// user_events.value is Decimal(14,2): refuse here what the table cannot hold.
		c.add(Issue{Code: "too_big", Origin: "number", Path: []string{"value"},
			Message: "Too big: expected number to be <=999999999999.99"})
	default:
		return true, v.Num
	}
	return false, 0
}

// currency validates the optional ISO 4217-shaped field "currency" and
// returns it upper-cased.
func (c *checker) currency(f *fieldSet) string {
	s, ok := c.str(f, "currency", 0, 0)
	if !ok {
		return ""
	}
	if !isCurrency(s) {
		c.add(currencyIssue([]string{"currency"}))
		return ""
	}
	return strings.ToUpper(s)
}

// groups checks a record of non-empty string → non-empty string and returns its
// JSON text.
func (c *checker) groups(g gjson.Result) []byte {
	n := len(c.issues)
	g.ForEach(func(k, v gjson.Result) bool {
		key := k.String()
		path := []string{"groups", key}
		switch {
		case key == "":
			c.add(keyIssue(path))
		case v.Type != gjson.String:
			c.add(typeIssue(path, "string", received(v)))
		case v.Str == "":
			c.add(tooSmall(path, 1))
		}
		return true
	})
	if len(c.issues) > n {
		return nil
	}
	return rawBytes(g.Raw)
}

// ParseContactKeys validates a DELETE /v1/contacts body.
func ParseContactKeys(body []byte, isJSON bool) (ContactKeys, error) {
	var k ContactKeys
	if !isJSON {
		return k, ErrIdentityRequired
	}
	root, err := parseObject(body)
	if err != nil {
		return k, err
	}
	f := &fieldSet{}
	fields(root, f)
	var c checker
	if s, ok := c.str(f, "email", 0, 0); ok {
		k.Email = identity.NormalizeEmail(s)
	}
	if s, ok := c.str(f, "userId", 0, 0); ok {
		k.UserID = identity.NormalizeID(s)
	}
	if err := c.err(); err != nil {
		return k, err
	}
	if k.Email == "" && k.UserID == "" {
		return k, ErrIdentityRequired
	}
	return k, nil
}

// FindKeys normalises the find query parameters.
func FindKeys(email, userID string) (ContactKeys, error) {
	k := ContactKeys{Email: identity.NormalizeEmail(email), UserID: identity.NormalizeID(userID)}
	if k.Email == "" && k.UserID == "" {
		return k, ErrIdentityRequired
	}
	return k, nil
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// ValidEmail implements zod 4's email pattern:
// ^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || !utf8.ValidString(s) {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(isAlnum(c) || c == '_' || c == '\'' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	if last := local[len(local)-1]; last == '.' || last == '\'' {
		return false
	}
	dot := strings.LastIndexByte(domain, '.')
	if dot < 0 || !validTLD(domain[dot+1:]) {
		return false
	}
	for l := range strings.SplitSeq(domain[:dot], ".") {
		if l == "" || !isAlnum(l[0]) {
			return false
		}
		for j := 0; j < len(l); j++ {
			if !isAlnum(l[j]) && l[j] != '-' {
				return false
			}
		}
	}
	return true
}

// validTLD is the email pattern's last domain label: two letters or more.
func validTLD(l string) bool {
	if len(l) < 2 {
		return false
	}
	for j := 0; j < len(l); j++ {
		if !isAlpha(l[j]) {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isAlnum(c byte) bool { return isAlpha(c) || (c >= '0' && c <= '9') }

// ParseISODatetime accepts zod 4's default datetime: YYYY-MM-DDTHH:MM with
// optional :SS and fraction, and a Z suffix only. It returns Unix ms.
func ParseISODatetime(s string) (int64, bool) {
	if !isoShape(s) {
		return 0, false
	}
	body := s[:len(s)-1]
	layout := "2006-01-02T15:04:05.999999999"
	switch len(body) {
	case 16:
		layout = "2006-01-02T15:04"
	case 19:
		layout = "2006-01-02T15:04:05"
	default:
		// time.Parse takes at most 9 fraction digits; zod takes any number.
		body = body[:min(len(body), 29)]
	}
	t, err := time.Parse(layout, body)
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// isoShape checks the characters of a zod datetime, digit by digit, so that
// time.Parse's leniency (a one-digit hour, say) lets nothing else through:
// DDDD-DD-DDTDD:DD, then optionally :DD and .D…, then Z.
func isoShape(s string) bool {
	const shape = "DDDD-DD-DDTDD:DD:DD"
	n := len(s) - 1
	if n < 16 || s[n] != 'Z' || (n > 16 && n < 19) || (n > 19 && (n < 21 || s[19] != '.')) {
		return false
	}
	for i := 0; i < min(n, len(shape)); i++ {
		if c := s[i]; (shape[i] == 'D' && (c < '0' || c > '9')) || (shape[i] != 'D' && c != shape[i]) {
			return false
		}
	}
	for i := 20; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
