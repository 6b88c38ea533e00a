package ga4

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// Defaults filled by Validate.
const (
	DefaultBaseURL = "https://www.google-analytics.com"
)

// Config is the "ga4" destination of conversions.destinations. Values are
// strings as written in YAML (Debug is a bool); ${VAR} expansion happens
// before decoding.
type Config struct {
	// MeasurementID is the web data stream's id, "G-…" (required).
	MeasurementID string `yaml:"measurement_id"`
	// APISecret is the stream's Measurement Protocol secret, sent as the
	// api_secret query parameter: GA4's only auth (required).
	APISecret string `yaml:"api_secret"`
	// BaseURL is scheme and host (optionally a path prefix) in front of
	// /mp/collect; default DefaultBaseURL.
	BaseURL string `yaml:"base_url"`
	// Debug sends to /debug/mp/collect, which validates and records
	// nothing, and turns its validationMessages into rejections.
	Debug bool `yaml:"debug"`
	// DefaultPhoneCountry is the calling code (digits, e.g. "1" or "44")
	// given to phones stored in national format; empty leaves such phones
	// out of user_data rather than hashing a guess.
	DefaultPhoneCountry string `yaml:"default_phone_country"`
	// Timeout bounds one HTTP request (conversions.Timeout).
	Timeout conversions.Timeout `yaml:"timeout"`
}

// Validate fills defaults and checks every field; each error names its YAML
// key, and all problems are reported at once.
func (c *Config) Validate() error {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")

	var errs []error
	switch {
	case c.MeasurementID == "":
		errs = append(errs, errors.New("measurement_id: required"))
	case !validMeasurementID(c.MeasurementID):
		// Also catches an unexpanded "${GA4_MEASUREMENT_ID}".
		errs = append(errs, fmt.Errorf("measurement_id: %q is not of the form G-XXXXXXXXXX", c.MeasurementID))
	}
	errs = append(errs, conversions.SecretError("api_secret", c.APISecret), conversions.BaseURLError(c.BaseURL))
	var calling bool
	if c.DefaultPhoneCountry, calling = conversions.CallingCode(c.DefaultPhoneCountry); !calling {
		errs = append(errs, fmt.Errorf("default_phone_country: %q is not a calling code (1 to 3 digits, e.g. 1 or 44)", c.DefaultPhoneCountry))
	}
	if err := c.Timeout.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("timeout: %w", err))
	}
	return errors.Join(errs...)
}

// endpoint is the collect URL with its query; call after Validate.
func (c *Config) endpoint() string {
	path := "/mp/collect"
	if c.Debug {
		path = "/debug/mp/collect"
	}
	q := url.Values{}
	q.Set("measurement_id", c.MeasurementID)
	q.Set("api_secret", c.APISecret)
	return c.BaseURL + path + "?" + q.Encode()
}

// validMeasurementID accepts "G-" followed by upper-case letters and digits.
func validMeasurementID(id string) bool {
	rest, ok := strings.CutPrefix(id, "G-")
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
