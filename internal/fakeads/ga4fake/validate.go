package ga4fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// emptyDigest is sha256(""): a client that sends it hashed a missing value.
const emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Field limits of docs/contracts/ad-platforms.md §7.
const (
	maxName         = 40
	maxParams       = 25
	maxUserProps    = 25
	maxParamValue   = 100
	maxPageLocation = 1000
	maxUserID       = 256
	// Plausible µs timestamps lie between 1e14 (1973) and 1e17 (5138);
	// seconds (~1.7e9), ms (~1.7e12) and ns (~1.7e18) fall outside.
	minMicros = 1e14
	maxMicros = 1e17
)

var reservedNames = map[string]bool{
	"ad_activeview": true, "ad_click": true, "ad_exposure": true, "ad_query": true,
	"ad_reward": true, "adunit_exposure": true, "app_clear_data": true,
	"app_exception": true, "app_install": true, "app_remove": true,
	"app_store_refund": true, "app_update": true, "app_upgrade": true,
	"dynamic_link_app_open": true, "dynamic_link_app_update": true,
	"dynamic_link_first_open": true, "error": true, "first_open": true,
	"first_visit": true, "in_app_purchase": true, "notification_dismiss": true,
	"notification_foreground": true, "notification_open": true,
	"notification_receive": true, "notification_send": true, "os_update": true,
	"screen_view": true, "session_start": true, "user_engagement": true,
}

var reservedPrefixes = []string{"google_", "ga_", "firebase_"}

// Keys GA4 knows at the top level and in user_data / address; anything
// else is a client bug (a misspelt key is silently ignored by GA4).
var (
	topKeys = map[string]bool{
		"client_id": true, "user_id": true, "timestamp_micros": true, "user_properties": true,
		"consent": true, "user_data": true, "events": true, "non_personalized_ads": true,
		"user_location": true, "ip_override": true, "device": true, "validation_behavior": true,
	}
	userDataKeys = map[string]bool{"sha256_email_address": true, "sha256_phone_number": true, "address": true}
	addressKeys  = map[string]bool{
		"sha256_first_name": true, "sha256_last_name": true, "sha256_street": true,
		"city": true, "region": true, "postal_code": true, "country": true,
	}
)

type violation struct{ path, code, desc string }

// checker collects the violations of one request.
type checker struct {
	now        time.Time
	maxAge     time.Duration
	violations []violation
}

func (c *checker) add(path, code, format string, args ...any) {
	c.violations = append(c.violations, violation{path, code, fmt.Sprintf(format, args...)})
}

// query checks the auth: measurement_id and api_secret in the query.
func (c *checker) query(q url.Values, measurementID, apiSecret string) {
	switch got := q.Get("measurement_id"); {
	case got == "":
		c.add("measurement_id", "AUTH", "measurement_id query parameter is missing")
	case got != measurementID:
		c.add("measurement_id", "AUTH", "unknown measurement_id %q", got)
	}
	switch got := q.Get("api_secret"); {
	case got == "":
		c.add("api_secret", "AUTH", "api_secret query parameter is missing")
	case got != apiSecret:
		c.add("api_secret", "AUTH", "api_secret does not match the stream's secret")
	}
}

// body checks the JSON body and returns the ledger keys
// (client_id|transaction_id, "" without a transaction_id) of the events to
// count: none when the request itself is bad, else the valid events.
func (c *checker) body(raw []byte) []string {
	if len(raw) > MaxBody {
		c.add("", "VALUE_INVALID", "body of %d bytes is over %d", len(raw), MaxBody)
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		c.add("", "VALUE_INVALID", "body is not a JSON object: %v", err)
		return nil
	}
	if dec.More() {
		c.add("", "VALUE_INVALID", "trailing data after the JSON object")
		return nil
	}
	for k := range top {
		if !topKeys[k] {
			c.add(k, "NAME_INVALID", "unknown top-level field %q", k)
		}
	}
	clientID, ok := top["client_id"].(string)
	switch {
	case top["client_id"] == nil:
		c.add("client_id", "VALUE_REQUIRED", "client_id is required for web streams")
	case !ok || strings.TrimSpace(clientID) == "":
		c.add("client_id", "VALUE_INVALID", "client_id must be a non-empty string")
	}
	if v, present := top["user_id"]; present {
		if s, ok := v.(string); !ok || s == "" || len(s) > maxUserID {
			c.add("user_id", "VALUE_INVALID", "user_id must be a string of 1 to %d characters", maxUserID)
		}
	}
	if v, present := top["timestamp_micros"]; present {
		c.micros("timestamp_micros", v)
	}
	if v, present := top["consent"]; present {
		c.consent(v)
	}
	if v, present := top["user_data"]; present {
		c.userData(v)
	}
	if v, present := top["user_properties"]; present {
		if m, ok := v.(map[string]any); !ok || len(m) > maxUserProps {
			c.add("user_properties", "VALUE_INVALID", "user_properties must be an object of at most %d properties", maxUserProps)
		}
	}
	events, ok := top["events"].([]any)
	switch {
	case !ok || len(events) == 0:
		c.add("events", "VALUE_REQUIRED", "events must be a non-empty array")
		return nil
	case len(events) > MaxBatch:
		c.add("events", "EXCEEDED_MAX_ENTITIES", "%d events, at most %d per request", len(events), MaxBatch)
		return nil
	}
	// Every violation so far (auth included) is request-level: GA4 would
	// drop the whole request, so none of its events count.
	requestOK := len(c.violations) == 0
	var keys []string
	for i, e := range events {
		n := len(c.violations)
		tx := c.event(fmt.Sprintf("events[%d]", i), e)
		if requestOK && len(c.violations) == n {
			if tx == "" {
				keys = append(keys, "")
			} else {
				keys = append(keys, clientID+"|"+tx)
			}
		}
	}
	return keys
}

// micros checks a timestamp in µs: an integer, in the right unit, within
// the age window and not in the future.
func (c *checker) micros(path string, v any) {
	n, ok := v.(json.Number)
	if !ok {
		c.add(path, "VALUE_INVALID", "must be an integer, got %T", v)
		return
	}
	us, err := n.Int64()
	if err != nil {
		c.add(path, "VALUE_INVALID", "must be an integer, got %s", n)
		return
	}
	if us < minMicros || us > maxMicros {
		c.add(path, "VALUE_INVALID", "%d is not unix microseconds (wrong unit: seconds, ms or ns?)", us)
		return
	}
	t := time.UnixMicro(us)
	switch {
	case c.now.Sub(t) > c.maxAge:
		c.add(path, "VALUE_INVALID", "%s is older than %s", t.UTC().Format(time.RFC3339), c.maxAge)
	case t.Sub(c.now) > maxFuture:
		c.add(path, "VALUE_INVALID", "%s is in the future", t.UTC().Format(time.RFC3339))
	}
}

func (c *checker) consent(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		c.add("consent", "VALUE_INVALID", "consent must be an object")
		return
	}
	for k, val := range m {
		if k != "ad_user_data" && k != "ad_personalization" {
			c.add("consent."+k, "NAME_INVALID", "unknown consent field")
			continue
		}
		if s, _ := val.(string); s != "GRANTED" && s != "DENIED" {
			c.add("consent."+k, "VALUE_INVALID", "must be GRANTED or DENIED, got %v", val)
		}
	}
}

func (c *checker) userData(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		c.add("user_data", "VALUE_INVALID", "user_data must be an object")
		return
	}
	if len(m) == 0 {
		c.add("user_data", "VALUE_INVALID", "user_data is empty; omit it instead")
	}
	for k, val := range m {
		path := "user_data." + k
		if !userDataKeys[k] {
			c.add(path, "NAME_INVALID", "unknown user_data field")
			continue
		}
		list, ok := val.([]any)
		if !ok || len(list) == 0 {
			c.add(path, "VALUE_INVALID", "must be a non-empty array")
			continue
		}
		for i, item := range list {
			p := fmt.Sprintf("%s[%d]", path, i)
			if k == "address" {
				c.address(p, item)
			} else {
				c.digest(p, item)
			}
		}
	}
}

func (c *checker) address(path string, v any) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		c.add(path, "VALUE_INVALID", "address must be a non-empty object")
		return
	}
	for k, val := range m {
		p := path + "." + k
		if !addressKeys[k] {
			c.add(p, "NAME_INVALID", "unknown address field")
			continue
		}
		if strings.HasPrefix(k, "sha256_") {
			c.digest(p, val)
			continue
		}
		s, ok := val.(string)
		switch {
		case !ok || s == "":
			c.add(p, "VALUE_INVALID", "must be a non-empty string")
		case isDigest(strings.ToLower(s)):
			c.add(p, "VALUE_INVALID", "plain field looks hashed; GA4 wants it in clear text")
		case k == "country" && (len(s) != 2 || !isLetters(s)):
			c.add(p, "VALUE_INVALID", "country must be an ISO 3166-1 alpha-2 code, got %q", s)
		}
	}
}

// digest checks a value that must be sha256 as 64 lower-case hex and not
// the digest of "".
func (c *checker) digest(path string, v any) {
	s, ok := v.(string)
	switch {
	case !ok:
		c.add(path, "VALUE_INVALID", "must be a string")
	case !isDigest(s):
		c.add(path, "VALUE_INVALID", "must be a SHA-256 as 64 lower-case hex; got an unhashed or malformed value")
	case s == emptyDigest:
		c.add(path, "VALUE_INVALID", "is sha256(\"\"): an empty value was hashed")
	}
}

// event checks one event and returns its transaction_id ("" when absent).
func (c *checker) event(path string, v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		c.add(path, "VALUE_INVALID", "event must be an object")
		return ""
	}
	for k := range m {
		if k != "name" && k != "params" && k != "timestamp_micros" {
			c.add(path+"."+k, "NAME_INVALID", "unknown event field")
		}
	}
	name, _ := m["name"].(string)
	c.name(path+".name", name, true)
	if ts, present := m["timestamp_micros"]; present {
		c.micros(path+".timestamp_micros", ts)
	}
	p, ok := m["params"].(map[string]any)
	if !ok {
		if m["params"] != nil {
			c.add(path+".params", "VALUE_INVALID", "params must be an object")
		}
		return ""
	}
	if len(p) > maxParams {
		c.add(path+".params", "EXCEEDED_MAX_ENTITIES", "%d params, at most %d", len(p), maxParams)
	}
	for k, val := range p {
		pp := path + ".params." + k
		c.name(pp, k, false)
		switch val := val.(type) {
		case string:
			limit := maxParamValue
			if k == "page_location" {
				limit = maxPageLocation
			}
			if len([]rune(val)) > limit {
				c.add(pp, "VALUE_INVALID", "value longer than %d characters", limit)
			}
		case json.Number, bool, []any, map[string]any:
		case nil:
			c.add(pp, "VALUE_INVALID", "null parameter value")
		}
	}
	if eng, present := p["engagement_time_msec"]; present {
		if n, ok := eng.(json.Number); !ok || !nonNegative(n) {
			c.add(path+".params.engagement_time_msec", "VALUE_INVALID", "must be a non-negative number of milliseconds")
		}
	}
	if val, present := p["value"]; present {
		if _, ok := val.(json.Number); !ok {
			c.add(path+".params.value", "VALUE_INVALID", "value must be a number, got %T", val)
		}
		cur, _ := p["currency"].(string)
		if len(cur) != 3 || strings.ToUpper(cur) != cur || !isLetters(cur) {
			c.add(path+".params.currency", "VALUE_REQUIRED", "value needs an ISO 4217 currency, got %q", cur)
		}
	}
	tx, present := p["transaction_id"]
	if !present {
		return ""
	}
	s, ok := tx.(string)
	if !ok || s == "" {
		c.add(path+".params.transaction_id", "VALUE_INVALID", "transaction_id must be a non-empty string")
		return ""
	}
	return s
}

// name checks an event (event true) or parameter name.
func (c *checker) name(path, name string, event bool) {
	switch {
	case name == "":
		c.add(path, "VALUE_REQUIRED", "name is required")
		return
	case len(name) > maxName:
		c.add(path, "NAME_INVALID", "name %q is longer than %d characters", name, maxName)
		return
	case !isLetters(name[:1]):
		c.add(path, "NAME_INVALID", "name %q must start with a letter", name)
		return
	}
	for i := 0; i < len(name); i++ {
		if ch := name[i]; !isLetters(name[i:i+1]) && !('0' <= ch && ch <= '9') && ch != '_' {
			c.add(path, "NAME_INVALID", "name %q may hold only letters, digits and '_'", name)
			return
		}
	}
	if !event {
		return
	}
	if reservedNames[name] {
		c.add(path, "NAME_RESERVED", "event name %q is reserved", name)
		return
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(name, p) {
			c.add(path, "NAME_RESERVED", "event name %q uses reserved prefix %q", name, p)
			return
		}
	}
}

func isDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if ch := s[i]; !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f') {
			return false
		}
	}
	return true
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if ch := s[i]; !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z') {
			return false
		}
	}
	return s != ""
}

func nonNegative(n json.Number) bool {
	f, err := n.Float64()
	return err == nil && f >= 0
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
