package tiktokfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// TikTok business codes the fake answers (docs/contracts/ad-platforms.md §4.4).
const (
	CodeOK           = 0
	CodeNoPermission = 40001
	CodeInvalidParam = 40002
	CodeRateLimited  = 40100
	CodeBadToken     = 40105
)

// body is the top level of POST /event/track/.
type body struct {
	EventSource   *string           `json:"event_source"`
	EventSourceID *string           `json:"event_source_id"`
	PartnerName   *string           `json:"partner_name"`
	TestEventCode *string           `json:"test_event_code"`
	Data          []json.RawMessage `json:"data"`
}

type wireEvent struct {
	Event          *string         `json:"event"`
	EventTime      json.RawMessage `json:"event_time"` // raw: a quoted time must fail
	EventID        *string         `json:"event_id"`
	User           *wireUser       `json:"user"`
	Properties     *wireProps      `json:"properties"`
	Page           *wirePage       `json:"page"`
	LimitedDataUse *bool           `json:"limited_data_use"`
	App            json.RawMessage `json:"app"`
	Ad             json.RawMessage `json:"ad"`
	Lead           json.RawMessage `json:"lead"`
}

type wireUser struct {
	Email      strings1 `json:"email"`
	Phone      strings1 `json:"phone"`
	ExternalID strings1 `json:"external_id"`
	FirstName  *string  `json:"first_name"`
	LastName   *string  `json:"last_name"`
	ZipCode    *string  `json:"zip_code"`
	City       *string  `json:"city"`
	State      *string  `json:"state"`
	Country    *string  `json:"country"`
	Ttclid     *string  `json:"ttclid"`
	Ttp        *string  `json:"ttp"`
	IP         *string  `json:"ip"`
	UserAgent  *string  `json:"user_agent"`
	Locale     *string  `json:"locale"`
	Idfa       *string  `json:"idfa"`
	Idfv       *string  `json:"idfv"`
	Gaid       *string  `json:"gaid"`
	AttStatus  *string  `json:"att_status"`
}

type wireProps struct {
	Currency         *string         `json:"currency"`
	Value            json.RawMessage `json:"value"`
	ContentType      *string         `json:"content_type"`
	Contents         []wireContent   `json:"contents"`
	ContentIDs       []string        `json:"content_ids"`
	OrderID          *string         `json:"order_id"`
	ShopID           *string         `json:"shop_id"`
	Query            *string         `json:"query"`
	SearchString     *string         `json:"search_string"`
	Description      *string         `json:"description"`
	NumItems         json.RawMessage `json:"num_items"`
	DeliveryCategory *string         `json:"delivery_category"`
	PredictedLTV     json.RawMessage `json:"predicted_ltv"`
}

type wireContent struct {
	ContentID       json.RawMessage `json:"content_id"` // raw: a number must fail
	ContentType     *string         `json:"content_type"`
	ContentCategory *string         `json:"content_category"`
	ContentName     *string         `json:"content_name"`
	Brand           *string         `json:"brand"`
	Price           json.RawMessage `json:"price"`
	Quantity        json.RawMessage `json:"quantity"`
}

type wirePage struct {
	URL      *string `json:"url"`
	Referrer *string `json:"referrer"`
}

// strings1 is TikTok's "string or string[]" (email, phone, external_id).
type strings1 struct {
	set    bool
	values []string
}

func (s *strings1) UnmarshalJSON(b []byte) error {
	s.set = true
	if len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, &s.values)
	}
	var one string
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	s.values = []string{one}
	return nil
}

// process validates one request and, when every event passes, counts them
// in the Ledger. It returns TikTok's code and message.
func (s *Server) process(h http.Header, raw []byte) (int, string) {
	tok := h.Get("Access-Token")
	if tok == "" || tok != s.opts.accessToken {
		return CodeBadToken, "Access token is incorrect or has been revoked."
	}
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "application/json" {
		return CodeInvalidParam, fmt.Sprintf("Content-Type %q is not application/json", h.Get("Content-Type"))
	}
	var b body
	if err := strictDecode(raw, &b); err != nil {
		return CodeInvalidParam, fieldError("", err)
	}
	switch {
	case b.EventSource == nil:
		return CodeInvalidParam, "event_source: Missing data for required field."
	case !oneOf(*b.EventSource, "web", "app", "offline", "crm"):
		return CodeInvalidParam, "event_source: Must be one of: web, app, offline, crm."
	case b.EventSourceID == nil || *b.EventSourceID == "":
		return CodeInvalidParam, "event_source_id: Missing data for required field."
	case *b.EventSourceID != s.opts.pixelCode:
		return CodeNoPermission, fmt.Sprintf("No permission to operate pixel code: %s. You must be an admin or operator of this advertiser account.", *b.EventSourceID)
	case b.TestEventCode != nil && strings.TrimSpace(*b.TestEventCode) == "":
		return CodeInvalidParam, "test_event_code: empty value (omit it outside test mode)"
	case len(b.Data) < 1 || len(b.Data) > MaxBatch:
		return CodeInvalidParam, fmt.Sprintf("data: Length must be between 1 and %d.", MaxBatch)
	}
	keys := make([]string, len(b.Data))
	now := s.opts.now()
	for i, rawEv := range b.Data {
		key, err := s.checkEvent(rawEv, now)
		if err != nil {
			// All or nothing: one bad event refuses the request.
			return CodeInvalidParam, fieldError(fmt.Sprintf("Batch.%d.", i), err)
		}
		keys[i] = key
	}
	for _, k := range keys {
		s.Ledger.Accept(k)
	}
	return CodeOK, "OK"
}

// checkEvent validates one event and returns its dedup key.
func (s *Server) checkEvent(raw json.RawMessage, now time.Time) (string, error) {
	var ev wireEvent
	if err := strictDecode(raw, &ev); err != nil {
		return "", err
	}
	if ev.Event == nil || strings.TrimSpace(*ev.Event) == "" {
		return "", errors.New("event: Missing data for required field.")
	}
	// event_id is optional at TikTok (it falls back to _ttp); this fake
	// requires it because Hogsend's dedup with the pixel depends on it.
	if ev.EventID == nil || strings.TrimSpace(*ev.EventID) == "" {
		return "", errors.New("event_id: Missing data for required field.")
	}
	if err := s.checkTime(ev.EventTime, now); err != nil {
		return "", err
	}
	if ev.User == nil {
		return "", errors.New("user: Missing data for required field.")
	}
	if err := checkUser(ev.User); err != nil {
		return "", fmt.Errorf("user.%w", err)
	}
	if !ev.User.hasMatchKey() {
		return "", errors.New("user: needs at least one of email, phone, external_id, ttclid, ttp")
	}
	if ev.Properties != nil {
		if err := checkProps(ev.Properties); err != nil {
			return "", fmt.Errorf("properties.%w", err)
		}
	}
	if ev.Page != nil {
		if err := checkPage(ev.Page); err != nil {
			return "", fmt.Errorf("page.%w", err)
		}
	}
	return *ev.Event + "\x00" + *ev.EventID, nil
}

// checkTime wants unix seconds as a JSON integer of 10 digits: 13 digits
// are milliseconds, a quoted value is a string.
func (s *Server) checkTime(raw json.RawMessage, now time.Time) error {
	t := string(raw)
	switch {
	case len(raw) == 0:
		return errors.New("event_time: Missing data for required field.")
	case !digitsOnly(t):
		return fmt.Errorf("event_time: Not a valid integer: %s", t)
	case len(t) != 10:
		return fmt.Errorf("event_time: %s is not a unix time in seconds (10 digits)", t)
	}
	secs, _ := strconv.ParseInt(t, 10, 64)
	at := time.Unix(secs, 0)
	if now.Sub(at) > s.opts.maxAge {
		return fmt.Errorf("event_time: %s is older than %s", t, s.opts.maxAge)
	}
	if at.Sub(now) > maxFuture {
		return fmt.Errorf("event_time: %s is in the future", t)
	}
	return nil
}

func checkUser(u *wireUser) error {
	for _, f := range []struct {
		name string
		v    strings1
	}{{"email", u.Email}, {"phone", u.Phone}, {"external_id", u.ExternalID}} {
		if f.v.set && len(f.v.values) == 0 {
			return fmt.Errorf("%s: empty list", f.name)
		}
		for _, v := range f.v.values {
			if err := digest(f.name, v); err != nil {
				return err
			}
		}
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"first_name", u.FirstName}, {"last_name", u.LastName}, {"zip_code", u.ZipCode}} {
		if f.v != nil {
			if err := digest(f.name, *f.v); err != nil {
				return err
			}
		}
	}
	for _, f := range []struct {
		name string
		v    *string
	}{
		{"city", u.City}, {"state", u.State}, {"country", u.Country}, {"ttclid", u.Ttclid}, {"ttp", u.Ttp},
		{"ip", u.IP}, {"user_agent", u.UserAgent}, {"locale", u.Locale}, {"att_status", u.AttStatus},
	} {
		if f.v == nil {
			continue
		}
		v := *f.v
		switch {
		case strings.TrimSpace(v) == "":
			return fmt.Errorf("%s: empty value", f.name)
		case fakeads.LooksHashed(v):
			return fmt.Errorf("%s: must be plain text, not a SHA-256 digest", f.name)
		case (f.name == "city" || f.name == "state") && !lowerAlnum(v):
			return fmt.Errorf("%s: %q must be lower-case letters and digits", f.name, v)
		case f.name == "country" && !(len(v) == 2 && 'a' <= v[0] && v[0] <= 'z' && 'a' <= v[1] && v[1] <= 'z'):
			return fmt.Errorf("country: %q is not a lower-case ISO 3166-1 alpha-2 code", v)
		case f.name == "ip" && !validIP(v):
			return fmt.Errorf("ip: %q is not an IP address", v)
		}
	}
	return nil
}

// hasMatchKey reports whether u names someone TikTok can attribute; ip and
// user agent alone do not.
func (u *wireUser) hasMatchKey() bool {
	return u.Email.set || u.Phone.set || u.ExternalID.set || u.Ttclid != nil || u.Ttp != nil
}

// digest checks a field TikTok wants SHA-256 hashed.
func digest(name, v string) error {
	switch {
	case fakeads.IsEmptyDigest(v):
		return fmt.Errorf("%s: is the SHA-256 of an empty string", name)
	case !fakeads.LooksHashed(v):
		return fmt.Errorf("%s: must be a SHA-256 hex digest, got %d characters of plain text", name, len(v))
	case strings.ToLower(v) != v:
		return fmt.Errorf("%s: SHA-256 digest must be lower-case hex", name)
	}
	return nil
}

func checkProps(p *wireProps) error {
	if len(p.Value) > 0 {
		v, err := number(p.Value)
		if err != nil || v < 0 {
			return fmt.Errorf("value: Not a valid non-negative number: %s", p.Value)
		}
		if p.Currency == nil {
			return errors.New("currency: required with value")
		}
	}
	if p.Currency != nil && !upper3(*p.Currency) {
		return fmt.Errorf("currency: %q is not an ISO 4217 code", *p.Currency)
	}
	if p.ContentType != nil && !oneOf(*p.ContentType, "product", "product_group") {
		return errors.New("content_type: Must be one of: product, product_group.")
	}
	for j, c := range p.Contents {
		if len(c.ContentID) > 0 && c.ContentID[0] != '"' {
			return fmt.Errorf("contents.%d.content_id: Not a valid string", j)
		}
		if len(c.Price) > 0 {
			if _, err := number(c.Price); err != nil {
				return fmt.Errorf("contents.%d.price: Not a valid number", j)
			}
		}
		if len(c.Quantity) > 0 && !digitsOnly(string(c.Quantity)) {
			return fmt.Errorf("contents.%d.quantity: Not a valid integer", j)
		}
	}
	if len(p.NumItems) > 0 && !digitsOnly(string(p.NumItems)) {
		return errors.New("num_items: Not a valid integer")
	}
	if len(p.PredictedLTV) > 0 {
		if _, err := number(p.PredictedLTV); err != nil {
			return errors.New("predicted_ltv: Not a valid number")
		}
	}
	return nil
}

func checkPage(p *wirePage) error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"url", p.URL}, {"referrer", p.Referrer}} {
		if f.v == nil {
			continue
		}
		u, err := url.Parse(*f.v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: %q is not an absolute http(s) URL", f.name, *f.v)
		}
	}
	return nil
}

// strictDecode refuses unknown keys and trailing data: a misspelt field
// would be silently ignored by TikTok, and the fake exists to catch it.
func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// fieldError words a decode or validation error TikTok's way:
// "Batch.0.user.email: Not a valid string".
func fieldError(prefix string, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		kind := te.Type.Kind().String()
		if kind == "ptr" {
			kind = te.Type.Elem().Kind().String()
		}
		return fmt.Sprintf("%s%s: Not a valid %s", prefix, te.Field, kind)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "Invalid JSON: " + err.Error()
	}
	return prefix + strings.TrimPrefix(err.Error(), "json: ")
}

// number parses a JSON number literal (not a quoted string).
func number(raw json.RawMessage) (float64, error) {
	if len(raw) == 0 || raw[0] == '"' {
		return 0, errors.New("not a number")
	}
	return strconv.ParseFloat(string(raw), 64)
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// lowerAlnum is TikTok's city/state form: letters (any script) and digits,
// nothing upper-case, no spaces or punctuation.
func lowerAlnum(s string) bool {
	for _, r := range s {
		if unicode.IsUpper(r) || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}

func upper3(s string) bool {
	return len(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z'
}

func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
