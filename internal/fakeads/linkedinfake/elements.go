package linkedinfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// fieldError is one LinkedIn validation error: "ERROR :: <path> :: <msg>".
type fieldError struct {
	path, msg string
}

// verdict is what validating one element found.
type verdict struct {
	errs        []fieldError
	unknownRule bool   // the rule does not exist as a CONVERSIONS_API rule
	key         string // dedup key when accepted
}

func (v *verdict) add(path, format string, args ...any) {
	v.errs = append(v.errs, fieldError{path: path, msg: fmt.Sprintf(format, args...)})
}

// create handles a single create: one element, 201 with no body.
func (s *Server) create(body []byte, version string) answer {
	if !isObject(body) {
		return s.fail(http.StatusBadRequest, "", "request body is not a JSON object")
	}
	v := s.validateElement(body, version)
	if a, bad := s.refuse([]verdict{v}); bad {
		return a
	}
	s.accept(v.key)
	return answer{status: http.StatusCreated}
}

// batchCreate handles BATCH_CREATE: {"elements":[…]}, all or nothing.
func (s *Server) batchCreate(body []byte, version string) answer {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || !isObject(body) {
		return s.fail(http.StatusBadRequest, "", "request body is not a JSON object")
	}
	var extra []string
	for k := range top {
		if k != "elements" {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra) // a stable answer whatever the map order
		return s.fail(http.StatusBadRequest, "", "unrecognized field "+quote(extra[0])+" in a BATCH_CREATE body")
	}
	var elements []json.RawMessage
	if raw, ok := top["elements"]; !ok || !isArray(raw) || json.Unmarshal(raw, &elements) != nil {
		return s.fail(http.StatusBadRequest, "", "BATCH_CREATE body needs an elements array")
	}
	switch {
	case len(elements) == 0:
		return s.fail(http.StatusBadRequest, "", "elements must not be empty")
	case len(elements) > MaxBatch:
		return s.fail(http.StatusBadRequest, "", fmt.Sprintf("batch of %d elements exceeds the maximum of %d", len(elements), MaxBatch))
	}
	verdicts := make([]verdict, len(elements))
	for i, el := range elements {
		if !isObject(el) {
			verdicts[i].add("", "element is not a JSON object")
			continue
		}
		verdicts[i] = s.validateElement(el, version)
	}
	if a, bad := s.refuse(verdicts); bad {
		return a
	}
	type status struct {
		Status int `json:"status"`
	}
	res := struct {
		Elements []status `json:"elements"`
	}{Elements: make([]status, len(verdicts))}
	for i, v := range verdicts {
		s.accept(v.key)
		res.Elements[i] = status{Status: http.StatusCreated}
	}
	return answer{status: http.StatusOK, body: res}
}

// refuse answers for the whole request when any element is bad, as LinkedIn
// does: 400 naming the indices whose rule is not a CONVERSIONS_API rule,
// else 422 with one "Index: N, ERROR :: …" block per bad element.
func (s *Server) refuse(verdicts []verdict) (answer, bool) {
	var unknown []string
	for i, v := range verdicts {
		if v.unknownRule {
			unknown = append(unknown, strconv.Itoa(i))
			s.reject(Rejection{Status: http.StatusBadRequest, Index: i, Field: "/conversion", Message: "conversion rule is not a CONVERSIONS_API rule"})
		}
	}
	if len(unknown) > 0 {
		msg := "Incorrect conversions information provided. Conversion's method should be CONVERSIONS_API, indices [" +
			strings.Join(unknown, ", ") + "] (0-indexed)"
		return answer{status: http.StatusBadRequest, body: errorBody{Status: http.StatusBadRequest, Message: msg}}, true
	}
	var msg strings.Builder
	for i, v := range verdicts {
		for j, e := range v.errs {
			s.reject(Rejection{Status: http.StatusUnprocessableEntity, Index: i, Field: e.path, Message: e.msg})
			if j == 0 {
				fmt.Fprintf(&msg, "Index: %d, ", i)
			}
			fmt.Fprintf(&msg, "ERROR :: %s :: %s\n", e.path, e.msg)
		}
	}
	if msg.Len() == 0 {
		return answer{}, false
	}
	return answer{status: http.StatusUnprocessableEntity, body: errorBody{Status: http.StatusUnprocessableEntity, Message: msg.String()}}, true
}

// accept counts a conversion; key "" (no eventId) never deduplicates.
func (s *Server) accept(key string) {
	if key == "" {
		s.mu.Lock()
		s.anon++
		key = fmt.Sprintf("no-event-id-%d", s.anon)
		s.mu.Unlock()
	}
	s.Ledger.Accept(key)
}

// validateElement checks one conversion event against LinkedIn's schema.
func (s *Server) validateElement(raw []byte, version string) verdict {
	var v verdict
	var el map[string]json.RawMessage
	if err := json.Unmarshal(raw, &el); err != nil {
		v.add("", "malformed JSON: %v", err)
		return v
	}
	known(&v, "", el, "conversion", "conversionHappenedAt", "conversionValue", "eventId", "user")

	conv, ok := str(&v, "/conversion", el["conversion"], true)
	if ok {
		id, isURN := strings.CutPrefix(conv, "urn:lla:llaPartnerConversion:")
		switch {
		case !isURN || !digits(id):
			v.add("/conversion", "%q is not a valid urn:lla:llaPartnerConversion URN", conv)
		case s.opts.rules != nil && !s.opts.rules[id]:
			v.unknownRule = true
		}
	}
	s.checkTime(&v, el["conversionHappenedAt"])
	if raw, ok := el["conversionValue"]; ok {
		checkValue(&v, raw)
	}
	eventID, hasID := str(&v, "/eventId", el["eventId"], false)
	if hasID && (eventID == "" || len(eventID) > 64) {
		v.add("/eventId", "length %d is outside 1..64", len(eventID))
	}
	checkUser(&v, el["user"], version)
	if len(v.errs) == 0 && !v.unknownRule && hasID {
		// LinkedIn dedups on eventId within the conversion rule.
		v.key = conv + "|" + eventID
	}
	return v
}

// checkTime wants epoch milliseconds: a 13-digit integer inside the 90-day
// window. Seconds (10 digits), microseconds (16) or a string are refused.
func (s *Server) checkTime(v *verdict, raw json.RawMessage) {
	const path = "/conversionHappenedAt"
	if raw == nil {
		v.add(path, "field is required but not found and has no default value")
		return
	}
	t := strings.TrimSpace(string(raw))
	if !digits(t) {
		v.add(path, "%s is not an integer epoch in milliseconds", t)
		return
	}
	if len(t) != 13 {
		v.add(path, "%s has %d digits; epoch milliseconds have 13 (wrong unit?)", t, len(t))
		return
	}
	ms, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		v.add(path, "%s is not an int64", t)
		return
	}
	if at := time.UnixMilli(ms); s.opts.now().Sub(at) > MaxAge {
		v.add(path, "conversion happened at %s, more than 90 days ago", at.UTC().Format(time.RFC3339))
	}
}

// checkValue wants {"currencyCode":"USD","amount":"100.05"} with a string amount.
func checkValue(v *verdict, raw json.RawMessage) {
	var val map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &val) != nil {
		v.add("/conversionValue", "expected an object")
		return
	}
	known(v, "/conversionValue", val, "currencyCode", "amount")
	if cur, ok := str(v, "/conversionValue/currencyCode", val["currencyCode"], true); ok && !upper(cur, 3) {
		v.add("/conversionValue/currencyCode", "%q is not an ISO 4217 code", cur)
	}
	if amt, ok := str(v, "/conversionValue/amount", val["amount"], true); ok && !decimal(amt) {
		v.add("/conversionValue/amount", "%q is not a decimal amount", amt)
	}
}

var idTypes = map[string]bool{
	"SHA256_EMAIL":                           true,
	"LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID": true,
	"ACXIOM_ID":                              true,
	"ORACLE_MOAT_ID":                         true,
}

// checkUser wants userIds (at least one: LinkedIn refuses userInfo alone),
// hashed emails as 64 lower-case hex that is not sha256(""), a plain
// li_fat_id, and plain userInfo with both names.
func checkUser(v *verdict, raw json.RawMessage, version string) {
	var u map[string]json.RawMessage
	if raw == nil {
		v.add("/user", "field is required but not found and has no default value")
		return
	}
	if !isObject(raw) || json.Unmarshal(raw, &u) != nil {
		v.add("/user", "expected an object")
		return
	}
	allowed := []string{"userIds", "userInfo"}
	if version >= "202410" {
		allowed = append(allowed, "externalIds")
	}
	known(v, "/user", u, allowed...)

	var ids []json.RawMessage
	switch idsRaw, ok := u["userIds"]; {
	case !ok:
		v.add("/user/userIds", "field is required but not found and has no default value")
	case !isArray(idsRaw) || json.Unmarshal(idsRaw, &ids) != nil:
		v.add("/user/userIds", "expected an array")
	case len(ids) == 0:
		v.add("/user/userIds", "at least one user id is required")
	}
	for i, idRaw := range ids {
		checkUserID(v, fmt.Sprintf("/user/userIds/%d", i), idRaw)
	}
	if infoRaw, ok := u["userInfo"]; ok {
		checkUserInfo(v, infoRaw)
	}
	if extRaw, ok := u["externalIds"]; ok {
		var ext []json.RawMessage
		if !isArray(extRaw) || json.Unmarshal(extRaw, &ext) != nil {
			v.add("/user/externalIds", "expected an array")
		}
		for i, e := range ext {
			if s, ok := str(v, fmt.Sprintf("/user/externalIds/%d", i), e, true); ok && strings.TrimSpace(s) == "" {
				v.add(fmt.Sprintf("/user/externalIds/%d", i), "must not be empty")
			}
		}
	}
}

func checkUserID(v *verdict, path string, raw json.RawMessage) {
	var id map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &id) != nil {
		v.add(path, "expected an object")
		return
	}
	known(v, path, id, "idType", "idValue")
	typ, okT := str(v, path+"/idType", id["idType"], true)
	val, okV := str(v, path+"/idValue", id["idValue"], true)
	if okT && !idTypes[typ] {
		v.add(path+"/idType", "%q is not one of the symbols SHA256_EMAIL, LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID, ACXIOM_ID, ORACLE_MOAT_ID", typ)
		return
	}
	if !okT || !okV {
		return
	}
	switch {
	case strings.TrimSpace(val) == "":
		v.add(path+"/idValue", "must not be empty")
	case typ == "SHA256_EMAIL" && fakeads.IsEmptyDigest(val):
		v.add(path+"/idValue", "is sha256 of the empty string")
	case typ == "SHA256_EMAIL" && !lowerHex64(val):
		v.add(path+"/idValue", "SHA256_EMAIL must be 64 lower-case hex characters (unhashed or upper-case value?)")
	case typ == "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID" && (fakeads.LooksHashed(val) || strings.Contains(val, "@")):
		v.add(path+"/idValue", "li_fat_id must be sent plain, as the cookie carried it")
	}
}

func checkUserInfo(v *verdict, raw json.RawMessage) {
	const path = "/user/userInfo"
	var info map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &info) != nil {
		v.add(path, "expected an object")
		return
	}
	known(v, path, info, "firstName", "lastName", "companyName", "title", "countryCode")
	for _, f := range []string{"firstName", "lastName", "companyName", "title"} {
		required := f == "firstName" || f == "lastName"
		s, ok := str(v, path+"/"+f, info[f], required)
		switch {
		case !ok:
		case required && strings.TrimSpace(s) == "":
			v.add(path+"/"+f, "must not be empty")
		case fakeads.LooksHashed(s):
			v.add(path+"/"+f, "is plain text, not a hash")
		}
	}
	if cc, ok := str(v, path+"/countryCode", info["countryCode"], false); ok && !upper(cc, 2) {
		v.add(path+"/countryCode", "%q is not an upper-case ISO 3166-1 alpha-2 code", cc)
	}
}

// known flags every key of obj outside allowed, in a stable order.
func known(v *verdict, path string, obj map[string]json.RawMessage, allowed ...string) {
	var extra []string
	for k := range obj {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		v.add(path+"/"+k, "unrecognized field found but not allowed")
	}
}

// str decodes a JSON string at path; absent is an error only when required.
func str(v *verdict, path string, raw json.RawMessage, required bool) (string, bool) {
	if raw == nil {
		if required {
			v.add(path, "field is required but not found and has no default value")
		}
		return "", false
	}
	var s string
	if b := bytes.TrimSpace(raw); len(b) == 0 || b[0] != '"' || json.Unmarshal(b, &s) != nil {
		v.add(path, "%s is not a string", string(raw))
		return "", false
	}
	return s, true
}

func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

func isArray(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '['
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func upper(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func lowerHex64(s string) bool {
	return fakeads.LooksHashed(s) && s == strings.ToLower(s)
}

// decimal is "123" or "123.45": LinkedIn's amount string.
func decimal(s string) bool {
	whole, frac, hasDot := strings.Cut(s, ".")
	return digits(whole) && (!hasDot || digits(frac))
}

func validVersion(v string) bool {
	return len(v) == 6 && digits(v) && v[0] != '0' && v[4:] >= "01" && v[4:] <= "12"
}
