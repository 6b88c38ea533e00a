package metafake

import (
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

var (
	pathRE   = regexp.MustCompile(`^/(v\d+\.\d+)/([^/]+)/events$`)
	digestRE = regexp.MustCompile(`^[a-f0-9]{64}$`)
	// fbc and fbp share fb.{subdomain}.{ms}.{value}[.{appendix}] (docs/contracts/ad-platforms.md §2.3).
	cookieRE  = regexp.MustCompile(`^fb\.\d+\.\d+\.[^.]+(\.[A-Za-z0-9]+)?$`)
	integerRE = regexp.MustCompile(`^\d+$`)
)

// Event is one accepted event as the fake decoded it.
type Event struct {
	Name         string
	Time         int64 // unix seconds
	ID           string
	ActionSource string
	SourceURL    string
	// UserData holds every user_data key; strings become one-element lists.
	UserData   map[string][]string
	CustomData map[string]any
	// DataProcessingOptions is nil when the key was absent.
	DataProcessingOptions []string
	TestEventCode         string
	Raw                   json.RawMessage
}

// ValidateEvent checks one data[] element as the fake checks each event of
// a request, so that a payload builder's tests and fuzz targets can assert
// that whatever it builds passes.
func ValidateEvent(raw []byte, now time.Time) error {
	if _, gerr := checkEvent(raw, now); gerr != nil {
		return gerr
	}
	return nil
}

type checkedBatch struct {
	events        []Event
	testEventCode string
}

// check validates a request the way Graph does and returns the first
// problem: Meta refuses the whole request for one bad event.
func (s *Server) check(r *http.Request, body []byte) (checkedBatch, int, *GraphError) {
	var b checkedBatch
	if r.Method != http.MethodPost {
		return b, 400, &GraphError{Message: fmt.Sprintf("Unsupported %s request. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", strings.ToLower(r.Method)), Code: 100}
	}
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return b, 400, &GraphError{Message: "Unknown path components: " + r.URL.Path, Code: 2500}
	}
	version, pixel := m[1], m[2]

	top, gerr := decodeBody(r, body)
	if gerr != nil {
		return b, 400, gerr
	}
	q := r.URL.Query()
	if top.token == "" {
		top.token = q.Get("access_token")
	}
	if top.testEventCode == "" {
		top.testEventCode = q.Get("test_event_code")
	}
	switch {
	case top.token == "":
		return b, 400, &GraphError{Message: "An access token is required to request this resource.", Code: 104}
	case top.token != s.opts.token:
		return b, 400, &GraphError{Message: "Invalid OAuth access token - Cannot parse access token", Code: 190}
	}
	if s.opts.apiVersion != "" && version != s.opts.apiVersion {
		e := deprecatedVersion()
		return b, 400, &e
	}
	if pixel != s.opts.pixelID {
		e := unknownPixel(pixel)
		return b, 400, &e
	}

	switch {
	case top.data == nil:
		return b, 400, &GraphError{Message: "(#100) The parameter data is required", Code: 100}
	case len(top.data) == 0:
		return b, 400, &GraphError{Message: "(#100) param data must be a non-empty array", Code: 100}
	case len(top.data) > MaxBatch:
		e := invalidParam(SubcodeInvalid, "Too Many Events", fmt.Sprintf("A request can carry at most %d events, got %d.", MaxBatch, len(top.data)))
		return b, 400, &e
	}
	now := s.opts.now()
	for i, raw := range top.data {
		ev, gerr := checkEvent(raw, now)
		if gerr != nil {
			gerr.UserMsg = fmt.Sprintf("data[%d]: %s", i, gerr.UserMsg)
			return b, 400, gerr
		}
		b.events = append(b.events, ev)
	}
	b.testEventCode = top.testEventCode
	return b, 200, nil
}

type topLevel struct {
	data          []json.RawMessage // nil when absent
	token         string
	testEventCode string
}

// decodeBody reads a JSON body or, as RudderStack posts it, a form body
// whose data field is JSON (docs/contracts/ad-platforms.md §2.1).
func decodeBody(r *http.Request, body []byte) (topLevel, *GraphError) {
	var t topLevel
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	fields := map[string]json.RawMessage{}
	switch mt {
	case "application/json":
		if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
			return t, &GraphError{Message: "(#100) The request body is not a JSON object", Code: 100}
		}
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return t, &GraphError{Message: "(#100) The request body is not a valid form", Code: 100}
		}
		for k := range form {
			v := form.Get(k)
			if k == "data" {
				fields[k] = json.RawMessage(v)
			} else {
				fields[k], _ = json.Marshal(v)
			}
		}
	default:
		return t, &GraphError{Message: fmt.Sprintf("(#100) Unsupported Content-Type %q: send application/json or application/x-www-form-urlencoded", r.Header.Get("Content-Type")), Code: 100}
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		v := fields[k]
		switch k {
		case "data":
			if err := json.Unmarshal(v, &t.data); err != nil {
				return t, &GraphError{Message: "(#100) param data must be an array.", Code: 100}
			}
			if t.data == nil {
				t.data = []json.RawMessage{}
			}
		case "access_token":
			if err := json.Unmarshal(v, &t.token); err != nil {
				return t, &GraphError{Message: "(#100) param access_token must be a string.", Code: 100}
			}
		case "test_event_code":
			if err := json.Unmarshal(v, &t.testEventCode); err != nil {
				return t, &GraphError{Message: "(#100) param test_event_code must be a string.", Code: 100}
			}
		case "partner_agent", "namespace_id", "upload_tag":
		default:
			return t, &GraphError{Message: fmt.Sprintf("(#100) Unknown parameter %q", k), Code: 100}
		}
	}
	return t, nil
}

func bad(subcode int, title, format string, args ...any) *GraphError {
	e := invalidParam(subcode, title, fmt.Sprintf(format, args...))
	return &e
}

func validActionSource(s string) bool {
	switch s {
	case "email", "website", "app", "phone_call", "chat", "physical_store",
		"system_generated", "business_messaging", "other":
		return true
	}
	return false
}

func eventKey(k string) bool {
	switch k {
	case "event_name", "event_time", "event_id", "action_source", "event_source_url",
		"user_data", "custom_data", "opt_out", "data_processing_options",
		"data_processing_options_country", "data_processing_options_state",
		"app_data", "referrer_url", "original_event_data", "attribution_data", "messaging_channel":
		return true
	}
	return false
}

// checkEvent validates one data[] element (docs/contracts/ad-platforms.md §2.2, §2.8).
func checkEvent(raw json.RawMessage, now time.Time) (Event, *GraphError) {
	ev := Event{Raw: raw}
	// A form body may carry each event as a JSON string.
	var inner string
	if json.Unmarshal(raw, &inner) == nil {
		raw = json.RawMessage(inner)
		ev.Raw = raw
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil || f == nil {
		return ev, bad(SubcodeInvalid, "Invalid Event", "an event must be a JSON object")
	}
	for _, k := range slices.Sorted(maps.Keys(f)) {
		if !eventKey(k) {
			return ev, bad(SubcodeInvalid, "Invalid Parameter", "unknown event parameter %q", k)
		}
	}

	if !str(f["event_name"], &ev.Name) || strings.TrimSpace(ev.Name) == "" {
		return ev, bad(SubcodeInvalid, "Missing Event Name", "event_name is required and must be a non-empty string")
	}
	if !str(f["action_source"], &ev.ActionSource) || !validActionSource(ev.ActionSource) {
		return ev, bad(SubcodeInvalid, "Invalid Action Source", "action_source is required and must be one of email, website, app, phone_call, chat, physical_store, system_generated, business_messaging, other; got %s", f["action_source"])
	}
	if gerr := checkTime(f["event_time"], ev.ActionSource, now, &ev.Time); gerr != nil {
		return ev, gerr
	}
	if v, ok := f["event_id"]; ok && (!str(v, &ev.ID) || ev.ID == "") {
		return ev, bad(SubcodeInvalid, "Invalid Event ID", "event_id must be a non-empty string, got %s", v)
	}
	if v, ok := f["event_source_url"]; ok {
		if !str(v, &ev.SourceURL) {
			return ev, bad(SubcodeInvalid, "Invalid Event Source URL", "event_source_url must be a string")
		}
		if u, err := url.Parse(ev.SourceURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return ev, bad(SubcodeInvalid, "Invalid Event Source URL", "event_source_url must be an absolute http(s) URL, got %q", ev.SourceURL)
		}
	}

	ud, gerr := checkUserData(f["user_data"])
	if gerr != nil {
		return ev, gerr
	}
	ev.UserData = ud
	if ev.ActionSource == "website" && (ev.SourceURL == "" || len(ud["client_user_agent"]) == 0) {
		return ev, bad(SubcodeInvalid, "Missing Website Parameters", "website events need event_source_url and user_data.client_user_agent")
	}

	if v, ok := f["custom_data"]; ok {
		cd, gerr := checkCustomData(v, ev.Name)
		if gerr != nil {
			return ev, gerr
		}
		ev.CustomData = cd
	} else if ev.Name == "Purchase" {
		return ev, bad(SubcodeInvalid, "Missing Purchase Value", "Purchase events need custom_data.value and custom_data.currency")
	}

	if v, ok := f["data_processing_options"]; ok {
		if err := json.Unmarshal(v, &ev.DataProcessingOptions); err != nil || ev.DataProcessingOptions == nil {
			return ev, bad(SubcodeInvalid, "Invalid Data Processing Options", "data_processing_options must be an array of strings, got %s", v)
		}
		for _, o := range ev.DataProcessingOptions {
			if o != "LDU" {
				return ev, bad(SubcodeInvalid, "Invalid Data Processing Options", "data_processing_options may only hold \"LDU\", got %q", o)
			}
		}
	}
	for _, k := range []string{"data_processing_options_country", "data_processing_options_state"} {
		if v, ok := f[k]; ok && !integerRE.Match(v) {
			return ev, bad(SubcodeInvalid, "Invalid Data Processing Options", "%s must be an integer, got %s", k, v)
		}
	}
	if v, ok := f["opt_out"]; ok {
		var b bool
		if json.Unmarshal(v, &b) != nil {
			return ev, bad(SubcodeInvalid, "Invalid Parameter", "opt_out must be a boolean, got %s", v)
		}
	}
	return ev, nil
}

// checkTime wants an integer of unix seconds within the age window: a
// 13-digit value is milliseconds, the commonest unit mistake (docs/contracts/ad-platforms.md §1.5).
func checkTime(raw json.RawMessage, source string, now time.Time, out *int64) *GraphError {
	if raw == nil {
		return bad(SubcodeInvalid, "Missing Event Time", "event_time is required")
	}
	if !integerRE.Match(raw) {
		return bad(SubcodeTime, "Invalid Event Time", "event_time must be an integer of unix seconds, got %s", raw)
	}
	if len(raw) == 13 {
		return bad(SubcodeTime, "Event Time In Milliseconds", "event_time %s looks like milliseconds; send unix seconds", raw)
	}
	if len(raw) != 10 {
		return bad(SubcodeTime, "Invalid Event Time", "event_time %s is not a 10-digit unix time in seconds", raw)
	}
	secs, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return bad(SubcodeTime, "Invalid Event Time", "event_time %s: %v", raw, err)
	}
	*out = secs
	t := time.Unix(secs, 0)
	window, text := 7*24*time.Hour, "seven days"
	if source == "physical_store" {
		window, text = 62*24*time.Hour, "62 days"
	}
	if now.Sub(t) > window {
		return bad(SubcodeTooOld, "Event sent after "+text+".", "event_time %s is more than %s old; the whole request was rejected and no event was processed", raw, text)
	}
	if t.Sub(now) > time.Minute {
		return bad(SubcodeTime, "Event Timestamp Too Far in Future", "event_time %s is %s ahead of now", raw, t.Sub(now))
	}
	return nil
}

// userData keys by how Meta wants them (docs/contracts/ad-platforms.md §2.3).
func hashedUserKey(k string) bool {
	switch k {
	case "em", "ph", "fn", "ln", "db", "ge", "ct", "st", "zp", "country":
		return true
	}
	return false
}

func plainUserKey(k string) bool {
	switch k {
	case "client_ip_address", "client_user_agent", "fbc", "fbp",
		"subscription_id", "fb_login_id", "lead_id", "madid", "anon_id", "ctwa_clid", "page_id":
		return true
	}
	return false
}

func checkUserData(raw json.RawMessage) (map[string][]string, *GraphError) {
	var f map[string]json.RawMessage
	if raw == nil || json.Unmarshal(raw, &f) != nil || f == nil {
		return nil, bad(SubcodeInvalid, "Missing User Data", "user_data is required and must be an object")
	}
	ud := make(map[string][]string, len(f))
	// Sorted, so that the first problem reported is always the same one.
	for _, k := range slices.Sorted(maps.Keys(f)) {
		v := f[k]
		switch {
		case hashedUserKey(k):
			vals, ok := strs(v)
			if !ok {
				return nil, bad(SubcodeInvalid, "Invalid Parameter", "user_data.%s must be a string or a list of strings, got %s", k, v)
			}
			for _, s := range vals {
				if fakeads.IsEmptyDigest(s) {
					return nil, bad(SubcodeNotHashed, "Empty Value Hashed", "The %s parameter is the SHA-256 of an empty string: leave the field out instead.", k)
				}
				if !digestRE.MatchString(s) {
					return nil, bad(SubcodeNotHashed, "User Parameter Not Hashed", "The %s parameter isn’t hashed. Hash all user parameters as SHA256, except for client user agent, click ID, and browser ID.", k)
				}
			}
			ud[k] = vals
		case k == "external_id":
			// Hashing is recommended, not required: either form passes.
			vals, ok := strs(v)
			if !ok {
				return nil, bad(SubcodeInvalid, "Invalid Parameter", "user_data.external_id must be a string or a list of strings, got %s", v)
			}
			for _, s := range vals {
				if strings.TrimSpace(s) == "" || fakeads.IsEmptyDigest(s) {
					return nil, bad(SubcodeNotHashed, "Empty Value Hashed", "user_data.external_id holds an empty value or the SHA-256 of an empty string")
				}
			}
			ud[k] = vals
		case plainUserKey(k):
			var s string
			if !str(v, &s) || strings.TrimSpace(s) == "" {
				return nil, bad(SubcodeInvalid, "Invalid Parameter", "user_data.%s must be a non-empty string, got %s", k, v)
			}
			if gerr := checkPlain(k, s); gerr != nil {
				return nil, gerr
			}
			ud[k] = []string{s}
		default:
			return nil, bad(SubcodeInvalid, "Invalid Parameter", "unknown user_data parameter %q", k)
		}
	}
	if !matchable(ud) {
		return nil, bad(SubcodeNoUserMatch, "Insufficient User Data", "user_data needs a valid combination of customer information parameters, e.g. em, ph, external_id, fbc, fbp, or client_ip_address with client_user_agent")
	}
	return ud, nil
}

// checkPlain refuses a hashed or malformed field Meta wants as sent.
func checkPlain(k, s string) *GraphError {
	if fakeads.LooksHashed(s) {
		return bad(SubcodeInvalid, "Parameter Must Not Be Hashed", "user_data.%s must be sent unhashed", k)
	}
	switch k {
	case "client_ip_address":
		if _, err := netip.ParseAddr(s); err != nil {
			return bad(SubcodeInvalid, "Invalid Client IP Address", "client_ip_address %q is not an IP address", s)
		}
	case "fbc":
		if !cookieRE.MatchString(s) {
			return bad(SubcodeInvalid, "Invalid Fbc Parameter", "fbc %q does not match fb.{subdomain}.{creation_time_ms}.{fbclid}", s)
		}
	case "fbp":
		if !cookieRE.MatchString(s) {
			return bad(SubcodeInvalid, "Invalid Fbp Parameter", "fbp %q does not match fb.{subdomain}.{creation_time_ms}.{random}", s)
		}
	}
	return nil
}

// matchable reports whether user_data holds a combination Meta can use.
// Meta does not publish the list (docs/contracts/ad-platforms.md §2.3); these are the documented ones.
func matchable(ud map[string][]string) bool {
	for _, k := range []string{"em", "ph", "external_id", "fbc", "fbp", "fb_login_id", "lead_id", "madid", "anon_id", "subscription_id", "ctwa_clid"} {
		if len(ud[k]) > 0 {
			return true
		}
	}
	if len(ud["client_ip_address"]) > 0 && len(ud["client_user_agent"]) > 0 {
		return true
	}
	return len(ud["fn"]) > 0 && len(ud["ln"]) > 0 && (len(ud["zp"]) > 0 || len(ud["ct"]) > 0)
}

// checkCustomData checks what Meta validates of custom_data: value is a
// number, currency an ISO 4217 code that comes with it, Purchase has both.
// Other keys are custom properties, which Meta accepts.
func checkCustomData(raw json.RawMessage, name string) (map[string]any, *GraphError) {
	var f map[string]json.RawMessage
	if json.Unmarshal(raw, &f) != nil || f == nil {
		return nil, bad(SubcodeInvalid, "Invalid Custom Data", "custom_data must be an object, got %s", raw)
	}
	hasValue := false
	if v, ok := f["value"]; ok {
		var n float64
		if json.Unmarshal(v, &n) != nil {
			return nil, bad(SubcodeInvalid, "Invalid Value", "custom_data.value must be a number, got %s", v)
		}
		hasValue = true
	}
	var cur string
	if v, ok := f["currency"]; ok {
		if !str(v, &cur) || len(cur) != 3 || !isLetters(cur) {
			return nil, bad(SubcodeInvalid, "Invalid Currency", "custom_data.currency must be an ISO 4217 code, got %s", v)
		}
	}
	if hasValue && cur == "" {
		return nil, bad(SubcodeInvalid, "Missing Currency", "custom_data.value needs custom_data.currency")
	}
	if name == "Purchase" && (!hasValue || cur == "") {
		return nil, bad(SubcodeInvalid, "Missing Purchase Value", "Purchase events need custom_data.value and custom_data.currency")
	}
	if v, ok := f["order_id"]; ok {
		var s string
		if !str(v, &s) {
			return nil, bad(SubcodeInvalid, "Invalid Order ID", "custom_data.order_id must be a string, got %s", v)
		}
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out) // already known to be an object
	return out, nil
}

// str decodes a JSON string into out.
func str(raw json.RawMessage, out *string) bool {
	return raw != nil && json.Unmarshal(raw, out) == nil
}

// strs decodes a string or a non-empty list of strings.
func strs(raw json.RawMessage) ([]string, bool) {
	var one string
	if str(raw, &one) {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil || len(many) == 0 {
		return nil, false
	}
	return many, true
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
