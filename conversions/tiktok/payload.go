package tiktok

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// The wire body of POST /event/track/ (docs/contracts/ad-platforms.md §4.2). Structs with json tags
// keep the key order fixed, so tests compare bytes.
type request struct {
	EventSource   string  `json:"event_source"`
	EventSourceID string  `json:"event_source_id"`
	TestEventCode string  `json:"test_event_code,omitempty"`
	Data          []event `json:"data"`
}

type event struct {
	Event      string      `json:"event"`
	EventTime  int64       `json:"event_time"` // unix seconds
	EventID    string      `json:"event_id"`
	User       user        `json:"user"`
	Properties *properties `json:"properties,omitempty"`
	Page       *page       `json:"page,omitempty"`
	// LimitedDataUse is false when consent was granted and absent when
	// unknown: TikTok then applies its own default for the region.
	LimitedDataUse *bool `json:"limited_data_use,omitempty"`
}

// user holds SHA-256 digests (email … zip_code) and plain values (the
// rest), in the order of the documented example.
type user struct {
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Ttclid     string `json:"ttclid,omitempty"`
	Ttp        string `json:"ttp,omitempty"`
	IP         string `json:"ip,omitempty"`
	UserAgent  string `json:"user_agent,omitempty"`
	FirstName  string `json:"first_name,omitempty"`
	LastName   string `json:"last_name,omitempty"`
	ZipCode    string `json:"zip_code,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	Country    string `json:"country,omitempty"`
}

type properties struct {
	Currency string   `json:"currency,omitempty"`
	Value    *float64 `json:"value,omitempty"` // a pointer: a value of 0 is sent
	OrderID  string   `json:"order_id,omitempty"`
}

type page struct {
	URL string `json:"url"`
}

// builder turns conversions into TikTok events. It holds only what the
// payload needs, so tests and the fuzz target use it without a client.
type builder struct {
	pixelCode     string
	testEventCode string
	phoneCountry  string
	maxAge        time.Duration
}

func newBuilder(cfg *Config) builder {
	maxAge := cfg.maxAge()
	return builder{
		pixelCode:     cfg.PixelCode,
		testEventCode: cfg.TestEventCode,
		phoneCountry:  cfg.DefaultPhoneCountry,
		maxAge:        maxAge,
	}
}

// event validates c and builds its event; an error is a permanent
// rejection with a reason fit for the dead-letter queue.
func (b builder) event(c conversions.Conversion, now time.Time) (event, error) {
	if err := check(c, now, b.maxAge); err != nil {
		return event{}, err
	}
	ev := event{
		Event:     c.EventName,
		EventTime: c.OccurredAt.Unix(),
		EventID:   c.DedupID,
		User:      b.user(c),
	}
	if !ev.User.hasMatchKey() {
		return event{}, errors.New("no identifier: tiktok needs an email, phone, external_id, ttclid or ttp")
	}
	if c.HasValue || c.OrderID != "" {
		p := &properties{OrderID: c.OrderID}
		if c.HasValue {
			v := c.Value
			p.Currency, p.Value = c.Currency, &v
		}
		ev.Properties = p
	}
	if u, _ := pageURL(c.PageURL); u != "" {
		ev.Page = &page{URL: u}
	}
	if c.Consent == conversions.ConsentGranted {
		f := false
		ev.LimitedDataUse = &f
	}
	return ev, nil
}

func (b builder) user(c conversions.Conversion) user {
	u := c.User
	out := user{
		Email:      email(u.Email),
		Phone:      phone(u.Phone, b.phoneCountry),
		ExternalID: hashed(hashing.TrimLower(u.ExternalID)),
		Ttclid:     plain(clean(c.Clicks.Ttclid)),
		Ttp:        plain(clean(c.Clicks.Ttp)),
		IP:         ip(u.IP),
		UserAgent:  plain(clean(u.UserAgent)),
		FirstName:  hashed(name(u.FirstName)),
		LastName:   hashed(name(u.LastName)),
		ZipCode:    hashed(hashing.Zip(u.Zip)),
		City:       plain(hashing.Alnum(u.City)),
		State:      plain(hashing.Alnum(u.State)),
		Country:    plain(hashing.Country(u.Country)),
	}
	if out.Ttclid == "" {
		// A landing URL still carrying ?ttclid= attributes as well as the
		// stored click (SEG reads it the same way).
		if _, pu := pageURL(c.PageURL); pu != nil {
			out.Ttclid = plain(clean(pu.Query().Get("ttclid")))
		}
	}
	return out
}

// body encodes the request. HTML escaping is off: the body is not HTML, and
// URLs with '&' stay readable in recorded requests.
func (b builder) body(events []event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(request{
		EventSource:   "web",
		EventSourceID: b.pixelCode,
		TestEventCode: b.testEventCode,
		Data:          events,
	})
	if err != nil {
		return nil, fmt.Errorf("encode tiktok request: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
