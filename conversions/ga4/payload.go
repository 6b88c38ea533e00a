package ga4

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// request is one /mp/collect body. Field order is the encoding order, so
// bodies are byte-for-byte deterministic. client_id, user_id, consent and
// user_data are request-level in GA4: only conversions that agree on all of
// them can share a request (see group).
type request struct {
	ClientID        string    `json:"client_id"`
	UserID          string    `json:"user_id,omitempty"`
	TimestampMicros int64     `json:"timestamp_micros"`
	Consent         *consent  `json:"consent,omitempty"`
	UserData        *userData `json:"user_data,omitempty"`
	Events          []event   `json:"events"`
}

type consent struct {
	AdUserData        string `json:"ad_user_data"`
	AdPersonalization string `json:"ad_personalization"`
}

// userData is GA4's user-provided data: emails and phones hashed, the
// address' names hashed and its location fields plain (docs/contracts/ad-platforms.md §7).
type userData struct {
	SHA256EmailAddress []string  `json:"sha256_email_address,omitempty"`
	SHA256PhoneNumber  []string  `json:"sha256_phone_number,omitempty"`
	Address            []address `json:"address,omitempty"`
}

type address struct {
	SHA256FirstName string `json:"sha256_first_name,omitempty"`
	SHA256LastName  string `json:"sha256_last_name,omitempty"`
	City            string `json:"city,omitempty"`
	Region          string `json:"region,omitempty"`
	PostalCode      string `json:"postal_code,omitempty"`
	Country         string `json:"country,omitempty"`
}

func (a address) empty() bool { return a == address{} }

type event struct {
	Name string `json:"name"`
	// TimestampMicros is set only when the event's time differs from the
	// request's: GA4 lets an event override the request-level time, which
	// lets conversions of one person at different times share a request.
	TimestampMicros int64  `json:"timestamp_micros,omitempty"`
	Params          params `json:"params"`
}

type params struct {
	TransactionID string   `json:"transaction_id"`
	Value         *float64 `json:"value,omitempty"`
	Currency      string   `json:"currency,omitempty"`
	// EngagementTimeMsec is always 1: GA4 drops events without engagement
	// from its realtime and user reports.
	EngagementTimeMsec int    `json:"engagement_time_msec"`
	PageLocation       string `json:"page_location,omitempty"`
}

// item is one validated conversion, ready to be grouped into a request.
type item struct {
	head   request // request-level fields, Events empty
	key    string  // encoding of head without the time: the grouping key
	micros int64
	event  event
}

// builder turns conversions into request bodies.
type builder struct {
	phoneCountry string
}

// item validates conv against now and builds its request-level fields and
// event; an error is the rejection reason.
func (b builder) item(conv conversions.Conversion, now time.Time) (item, error) {
	if err := validate(conv, now); err != nil {
		return item{}, err
	}
	head := request{
		ClientID: clientID(conv),
		UserID:   strings.TrimSpace(conv.User.ExternalID),
		UserData: b.userData(conv.User),
	}
	if conv.Consent == conversions.ConsentGranted {
		head.Consent = &consent{AdUserData: "GRANTED", AdPersonalization: "GRANTED"}
	}
	key, err := json.Marshal(head)
	if err != nil {
		return item{}, err
	}
	ev := event{
		Name: conv.EventName,
		Params: params{
			TransactionID:      conv.DedupID,
			EngagementTimeMsec: 1,
			PageLocation:       pageLocation(conv.PageURL),
		},
	}
	if conv.HasValue {
		v := conv.Value
		ev.Params.Value = &v
		ev.Params.Currency = conv.Currency
	}
	return item{head: head, key: string(key), micros: conv.OccurredAt.UnixMicro(), event: ev}, nil
}

// userData is nil when no identifier survives normalisation, so that no
// empty object (and never sha256("")) is sent.
func (b builder) userData(u conversions.User) *userData {
	var ud userData
	if e := digest(hashing.GoogleEmail(u.Email)); e != "" {
		ud.SHA256EmailAddress = []string{e}
	}
	if p := digest(hashing.StrictE164(u.Phone, b.phoneCountry)); p != "" {
		ud.SHA256PhoneNumber = []string{p}
	}
	a := address{
		SHA256FirstName: digest(hashing.TrimLower(u.FirstName)),
		SHA256LastName:  digest(hashing.TrimLower(u.LastName)),
		City:            plain(u.City),
		Region:          plain(u.State),
		PostalCode:      plain(u.Zip),
		Country:         country(u.Country),
	}
	if !a.empty() {
		ud.Address = []address{a}
	}
	if ud.SHA256EmailAddress == nil && ud.SHA256PhoneNumber == nil && ud.Address == nil {
		return nil
	}
	return &ud
}

// group packs items into requests: items with the same request-level
// fields share one request (in first-appearance order), at most max events
// each. idx[r] lists the item positions of request r.
func group(items []item, max int) (reqs []request, idx [][]int) {
	open := map[string]int{} // key → index of the request still filling
	for i, it := range items {
		r, ok := open[it.key]
		if !ok || len(reqs[r].Events) == max {
			head := it.head
			head.TimestampMicros = it.micros
			reqs = append(reqs, head)
			idx = append(idx, nil)
			r = len(reqs) - 1
			open[it.key] = r
		}
		ev := it.event
		if it.micros != reqs[r].TimestampMicros {
			ev.TimestampMicros = it.micros
		}
		reqs[r].Events = append(reqs[r].Events, ev)
		idx[r] = append(idx[r], i)
	}
	return reqs, idx
}

// encode is the request's JSON body. HTML escaping is off so a page URL's
// '&' stays readable and bytes match what tests expect.
func encode(r request) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// clientID is the _ga client id when known, else the contact id, as
// PostHog falls back to distinct_id.
func clientID(conv conversions.Conversion) string {
	if id := strings.TrimSpace(conv.Clicks.GAClientID); id != "" {
		return id
	}
	return strings.TrimSpace(conv.ContactID)
}

// plain is GA4's form of the unhashed address fields: trimmed, lower case.
func plain(raw string) string { return strings.ToLower(strings.TrimSpace(raw)) }

// country is an upper-case ISO 3166-1 alpha-2 code, or "" for anything else.
func country(raw string) string {
	c := hashing.Country(raw)
	if len(c) != 2 {
		return ""
	}
	return strings.ToUpper(c)
}

// pageLocation cuts a URL to GA4's 1,000-character page_location limit
// without splitting a UTF-8 sequence; GA4 would truncate it anyway.
func pageLocation(raw string) string {
	u := strings.TrimSpace(raw)
	if len(u) <= maxPageLocation {
		return u
	}
	u = u[:maxPageLocation]
	for len(u) > 0 && !utf8.ValidString(u) {
		u = u[:len(u)-1]
	}
	return u
}

// digest hashes a normalised value; a value that arrived already hashed as
// sha256("") is absent too, since it stands for an empty identifier.
func digest(normalised string) string {
	d := hashing.Hash(normalised)
	if d == hashing.EmptyDigest {
		return ""
	}
	return d
}
