package tiktok

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// Defaults filled by Validate.
const (
	DefaultBaseURL    = "https://business-api.tiktok.com"
	DefaultAPIVersion = "v1.3"
	// DefaultMaxAge is the web event age window. TikTok documents 28 days
	// for offline events only; 7 days for web is what integrations cite
	// (docs/contracts/ad-platforms.md §4.3, unconfirmed), hence configurable.
	DefaultMaxAge = "168h"
)

// Config is the "tiktok" destination of conversions.destinations. Values are
// strings as written in YAML; ${VAR} expansion happens before decoding.
type Config struct {
	// PixelCode is the web pixel, sent as event_source_id (required).
	PixelCode string `yaml:"pixel_code"`
	// AccessToken is the pixel's Events API token, sent as the
	// Access-Token header (required).
	AccessToken string `yaml:"access_token"`
	// BaseURL is scheme and host (optionally a path prefix) in front of
	// /open_api/{api_version}/event/track/; default DefaultBaseURL.
	BaseURL string `yaml:"base_url"`
	// TestEventCode, when set, is sent top-level so events show in Events
	// Manager → Test Events instead of counting.
	TestEventCode string `yaml:"test_event_code"`

	// Fields beyond the line:

	// APIVersion is the path version, default DefaultAPIVersion ("v1.3").
	APIVersion string `yaml:"api_version"`
	// DefaultPhoneCountry is the calling code (digits, e.g. "1" or "44")
	// given to phones stored in national format; empty keeps such phones
	// as dialled, which TikTok may not match.
	DefaultPhoneCountry string `yaml:"default_phone_country"`
	// MaxAge is the age window (a Go duration such as "168h"); older
	// conversions are rejected before sending. Default DefaultMaxAge.
	MaxAge string `yaml:"max_age"`
	// Timeout bounds one request (conversions.Timeout).
	Timeout conversions.Timeout `yaml:"timeout"`
}

// Validate fills defaults and checks every field; each error names its YAML
// key, and all problems are reported at once.
func (c *Config) Validate() error {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if c.MaxAge == "" {
		c.MaxAge = DefaultMaxAge
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")

	var errs []error
	switch {
	case c.PixelCode == "":
		errs = append(errs, errors.New("pixel_code: required"))
	case !alnum(c.PixelCode):
		// Also catches an unexpanded "${TIKTOK_PIXEL}".
		errs = append(errs, fmt.Errorf("pixel_code: %q must be letters and digits", c.PixelCode))
	}
	errs = append(errs, conversions.SecretError("access_token", c.AccessToken), conversions.BaseURLError(c.BaseURL))
	if !validVersion(c.APIVersion) {
		errs = append(errs, fmt.Errorf("api_version: %q is not of the form v1.3", c.APIVersion))
	}
	if c.TestEventCode != "" && !conversions.Printable(c.TestEventCode) {
		errs = append(errs, errors.New("test_event_code: must not contain spaces or control characters"))
	}
	var calling bool
	if c.DefaultPhoneCountry, calling = conversions.CallingCode(c.DefaultPhoneCountry); !calling {
		errs = append(errs, fmt.Errorf("default_phone_country: %q is not a calling code (1 to 3 digits, e.g. 1 or 44)", c.DefaultPhoneCountry))
	}
	if d, err := time.ParseDuration(c.MaxAge); err != nil || d <= 0 {
		errs = append(errs, fmt.Errorf("max_age: %q is not a positive duration such as 168h", c.MaxAge))
	}
	if err := c.Timeout.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("timeout: %w", err))
	}
	return errors.Join(errs...)
}

// endpoint is the event/track URL; TikTok wants the trailing slash.
func (c *Config) endpoint() string {
	return c.BaseURL + "/open_api/" + c.APIVersion + "/event/track/"
}

// maxAge returns MaxAge parsed; call after Validate.
func (c *Config) maxAge() time.Duration {
	d, _ := time.ParseDuration(c.MaxAge)
	return d
}

func validVersion(v string) bool {
	major, minor, ok := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	return ok && strings.HasPrefix(v, "v") && digits(major) && digits(minor)
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
