package googleads

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// The request body of customers/{cid}:uploadClickConversions in the REST
// API's lowerCamelCase. Struct field order is the key order on the wire, so
// bodies are byte-for-byte deterministic; conversions are low-volume, so
// encoding/json is fast enough here.
type uploadRequest struct {
	Conversions []clickConversion `json:"conversions"`
	// PartialFailure is required and always true: without it one bad row
	// fails the whole upload (G-proto: "This should always be set to true").
	PartialFailure bool `json:"partialFailure"`
	ValidateOnly   bool `json:"validateOnly,omitempty"`
}

type clickConversion struct {
	ConversionAction   string           `json:"conversionAction"`
	ConversionDateTime string           `json:"conversionDateTime"`
	Gclid              string           `json:"gclid,omitempty"`
	Gbraid             string           `json:"gbraid,omitempty"`
	Wbraid             string           `json:"wbraid,omitempty"`
	UserIdentifiers    []userIdentifier `json:"userIdentifiers,omitempty"`
	ConversionValue    *double          `json:"conversionValue,omitempty"`
	CurrencyCode       string           `json:"currencyCode,omitempty"`
	OrderID            string           `json:"orderId,omitempty"`
	Consent            *consent         `json:"consent,omitempty"`
}

// userIdentifier is a oneof: exactly one field is set.
type userIdentifier struct {
	HashedEmail       string `json:"hashedEmail,omitempty"`
	HashedPhoneNumber string `json:"hashedPhoneNumber,omitempty"`
}

type consent struct {
	AdUserData        string `json:"adUserData"`
	AdPersonalization string `json:"adPersonalization"`
}

// double is a proto double written with a decimal point ("100.0"), as the
// documented example shows; the API reads 100 and 100.0 alike.
type double float64

func (d double) MarshalJSON() ([]byte, error) {
	f := float64(d)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("conversion value %v is not a JSON number", f)
	}
	// encoding/json's own rule for when to switch to exponent form.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(nil, f, format, -1, 64)
	if bytes.IndexAny(b, ".e") < 0 {
		b = append(b, '.', '0')
	}
	return b, nil
}

// dateTimeLayout is Google's "yyyy-mm-dd hh:mm:ss+|-hh:mm"; conversions are
// sent in UTC, hence the fixed +00:00.
const dateTimeLayout = "2006-01-02 15:04:05+00:00"

// builder turns conversions into wire rows. It holds only configuration, so
// it is safe for concurrent use.
type builder struct {
	customerID   string
	action       string // default conversion action resource name
	phoneCountry string
	validateOnly bool
}

func newBuilder(cfg Config) builder {
	return builder{
		customerID:   cfg.CustomerID,
		action:       cfg.ConversionAction,
		phoneCountry: cfg.DefaultPhoneCountry,
		validateOnly: cfg.ValidateOnly,
	}
}

// conversion builds one row, or says why the conversion cannot be sent: the
// error text becomes the Rejected reason.
func (b builder) conversion(c conversions.Conversion) (clickConversion, error) {
	var row clickConversion
	switch c.Consent {
	case conversions.ConsentUnknown:
		// Unknown consent: send no consent fields, Google applies the
		// account's defaults.
	case conversions.ConsentGranted:
		row.Consent = &consent{AdUserData: "GRANTED", AdPersonalization: "GRANTED"}
	case conversions.ConsentDenied:
		return row, errors.New("consent denied: not uploading")
	default:
		return row, fmt.Errorf("consent: unrecognised value %q", string(c.Consent))
	}

	dedup := strings.TrimSpace(c.DedupID)
	switch {
	case dedup == "":
		return row, errors.New("dedup_id: required (sent as orderId, Google's dedup key)")
	case strings.EqualFold(dedup, hashing.EmptyDigest):
		return row, errors.New("dedup_id: is sha256 of an empty string")
	}
	row.OrderID = dedup

	if c.OccurredAt.IsZero() {
		return row, errors.New("occurred_at: required")
	}
	at := c.OccurredAt.UTC()
	if y := at.Year(); y < 1970 || y > 9999 {
		return row, fmt.Errorf("occurred_at: year %d out of range", y)
	}
	row.ConversionDateTime = at.Format(dateTimeLayout)
	row.ConversionAction = b.actionFor(c.EventName)

	field, id := clickID(c.Clicks)
	if id != "" {
		// Click ids are plain: a digest or mangled bytes can never match.
		if hashing.IsHashed(id) {
			return row, fmt.Errorf("%s: looks like a SHA-256 digest; click ids are sent unhashed", field)
		}
		if !plainToken(id) {
			return row, fmt.Errorf("%s: not a click id (%q)", field, id)
		}
		switch field {
		case "gclid":
			row.Gclid = id
		case "gbraid":
			row.Gbraid = id
		case "wbraid":
			row.Wbraid = id
		}
	}
	row.UserIdentifiers = userIdentifiers(c.User, b.phoneCountry)
	if id == "" && len(row.UserIdentifiers) == 0 {
		return row, errors.New("no gclid, gbraid, wbraid, email or phone: nothing Google can match")
	}

	if c.HasValue {
		if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) {
			return row, fmt.Errorf("value: %v is not a finite number", c.Value)
		}
		v := double(c.Value)
		row.ConversionValue = &v
		if cur := strings.ToUpper(strings.TrimSpace(c.Currency)); cur != "" {
			if !conversions.ValidCurrency(cur) {
				return row, fmt.Errorf("currency: want an ISO 4217 code, got %q", c.Currency)
			}
			row.CurrencyCode = cur
		}
	}
	return row, nil
}

// actionFor is the conversion action named by the rule's event name when it
// is one (a numeric id or a resource name), else the configured default:
// Google has no event names, the conversion action is the event.
func (b builder) actionFor(eventName string) string {
	if a, ok := conversionAction(eventName, b.customerID); ok {
		return a
	}
	return b.action
}

// body encodes one upload request. HTML escaping is off so that bytes match
// what the API documents (no \u0026 for &).
func (b builder) body(rows []clickConversion) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	req := uploadRequest{Conversions: rows, PartialFailure: true, ValidateOnly: b.validateOnly}
	if err := enc.Encode(req); err != nil {
		return nil, fmt.Errorf("encode upload request: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// plainToken reports whether a click id is valid UTF-8 without spaces or
// control characters: what a URL parameter can carry intact.
func plainToken(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
