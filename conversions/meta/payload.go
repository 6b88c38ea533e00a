package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// The request body of POST /{version}/{pixel}/events (docs/contracts/ad-platforms.md §2.2).
// Field order is the wire order: encoding/json follows the struct, so the
// same conversions always encode to the same bytes.
type request struct {
	Data          []event `json:"data"`
	TestEventCode string  `json:"test_event_code,omitempty"`
	// The token rides in the body rather than the query string so that it
	// never lands in URL logs (Hogsend and PostHog do the same).
	AccessToken string `json:"access_token"`
}

type event struct {
	EventName      string      `json:"event_name"`
	EventTime      int64       `json:"event_time"` // unix seconds
	EventID        string      `json:"event_id"`
	ActionSource   string      `json:"action_source"`
	EventSourceURL string      `json:"event_source_url,omitempty"`
	UserData       userData    `json:"user_data"`
	CustomData     *customData `json:"custom_data,omitempty"`
	// DataProcessingOptions is nil (omitted) when consent is unknown, and an
	// empty array, Meta's explicit "Limited Data Use off", when granted.
	DataProcessingOptions *[]string `json:"data_processing_options,omitempty"`
}

// userData holds digests in arrays, as Hogsend sends them (Meta takes a
// string or a list), and the fields Meta wants plain as strings.
type userData struct {
	Em         []string `json:"em,omitempty"`
	Ph         []string `json:"ph,omitempty"`
	Fn         []string `json:"fn,omitempty"`
	Ln         []string `json:"ln,omitempty"`
	Ct         []string `json:"ct,omitempty"`
	St         []string `json:"st,omitempty"`
	Zp         []string `json:"zp,omitempty"`
	Country    []string `json:"country,omitempty"`
	ExternalID []string `json:"external_id,omitempty"`

	ClientIPAddress string `json:"client_ip_address,omitempty"`
	ClientUserAgent string `json:"client_user_agent,omitempty"`
	Fbc             string `json:"fbc,omitempty"`
	Fbp             string `json:"fbp,omitempty"`
}

type customData struct {
	Currency string   `json:"currency,omitempty"`
	Value    *float64 `json:"value,omitempty"` // a pointer so that 0 is sent
	OrderID  string   `json:"order_id,omitempty"`
}

// builder turns conversions into Meta events with one destination's
// settings; it holds no state of its own.
type builder struct {
	actionSource string // forced action_source; "" picks per conversion
	phoneCountry string // calling code for national-format phones
}

// event builds c's event, or says why c must not be sent. now is the clock
// the age window is checked against.
func (b builder) event(c conversions.Conversion, now time.Time) (event, error) {
	page := pageURL(c.PageURL)
	source := b.source(page, c.User.UserAgent)
	if err := checkConversion(c, now, source, page); err != nil {
		return event{}, err
	}
	ev := event{
		EventName:    strings.TrimSpace(c.EventName),
		EventTime:    c.OccurredAt.Unix(),
		EventID:      c.DedupID,
		ActionSource: source,
		// Meta needs the URL for web events and uses it for attribution
		// diagnostics elsewhere, so it is sent whenever known.
		EventSourceURL: page,
		UserData:       b.userData(c),
	}
	if err := checkUserData(ev.UserData); err != nil {
		return event{}, err
	}
	if orderID := strings.TrimSpace(c.OrderID); c.HasValue || orderID != "" {
		cd := &customData{OrderID: orderID}
		if c.HasValue {
			v := c.Value
			cd.Value = &v
			cd.Currency = strings.ToUpper(strings.TrimSpace(c.Currency))
		}
		ev.CustomData = cd
	}
	if c.Consent == conversions.ConsentGranted {
		ev.DataProcessingOptions = &[]string{}
	}
	return ev, nil
}

// source is the action_source: the configured one, else "website" for a
// web conversion Meta can accept as such (it needs the page and the user
// agent), else "system_generated".
func (b builder) source(page, userAgent string) string {
	if b.actionSource != "" {
		return b.actionSource
	}
	if page != "" && plain(userAgent) != "" {
		return "website"
	}
	return "system_generated"
}

// pageURL is raw when it is an absolute http(s) URL, else "": Meta refuses
// a malformed event_source_url, and with it the whole batch.
func pageURL(raw string) string {
	t := strings.TrimSpace(raw)
	u, err := url.Parse(t)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return t
}

// encode returns the request body. HTML escaping is off so that URLs keep
// their '&' and the bytes match what a reader of Meta's documentation expects.
func encode(events []event, testEventCode, accessToken string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(request{Data: events, TestEventCode: testEventCode, AccessToken: accessToken})
	if err != nil {
		return nil, fmt.Errorf("encode meta request: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
