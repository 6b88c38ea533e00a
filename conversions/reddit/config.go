package reddit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// DefaultBaseURL is Reddit's Ads API host.
const DefaultBaseURL = "https://ads-api.reddit.com"

// DefaultAPIVersion is the only Conversions API version this client speaks.
const DefaultAPIVersion = "v3"

// Action sources v3 accepts (upper case: a lower-case value is a common
// mistake Reddit refuses, docs/contracts/ad-platforms.md §6.2).
const (
	ActionWebsite       = "WEBSITE"
	ActionApp           = "APP"
	ActionPhysicalStore = "PHYSICAL_STORE"
	ActionOther         = "OTHER"
)

// Config is conversions.destinations.reddit. `${VAR}` expansion is done by
// the caller before decoding.
type Config struct {
	// PixelID is the a2_… pixel id, the same the browser pixel uses (not the
	// t2_… ad account id of v2).
	PixelID string `yaml:"pixel_id"`
	// AccessToken is the conversion access token from Events Manager, sent
	// as "Authorization: Bearer <token>".
	AccessToken string `yaml:"access_token"`
	// BaseURL defaults to DefaultBaseURL; tests point it at a fake.
	BaseURL string `yaml:"base_url"`
	// TestMode sends data.test_id = TestID: Reddit shows the events under
	// Events Manager → Event testing and does not count them.
	TestMode bool `yaml:"test_mode"`

	// Fields beyond the line:

	// TestID is the id from the Event testing tab; required when TestMode.
	TestID string `yaml:"test_id"`
	// APIVersion is pinned configuration (docs/contracts/ad-platforms.md §1.3); only "v3" is supported
	// and it is the default.
	APIVersion string `yaml:"api_version"`
	// ActionSource is where conversions happen: WEBSITE (default), APP,
	// PHYSICAL_STORE or OTHER. event_source_url is sent for WEBSITE only.
	ActionSource string `yaml:"action_source"`
	// DefaultPhoneCountry is the calling code (digits, e.g. "1" or "44")
	// given to phones stored in national format. Without it such phones are
	// not sent: guessing the country would hash a different person's number.
	DefaultPhoneCountry string `yaml:"default_phone_country"`
	// LimitedDataUse marks every conversion whose consent is not explicitly
	// granted with data_processing_options.modes = ["LDU"] (US state privacy
	// laws). Such conversions need the user's country.
	LimitedDataUse bool `yaml:"limited_data_use"`
	// Timeout bounds one request (conversions.Timeout).
	Timeout conversions.Timeout `yaml:"timeout"`
}

// Validate fills defaults and reports every invalid field by name.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}

	c.PixelID = strings.TrimSpace(c.PixelID)
	switch {
	case c.PixelID == "":
		bad("pixel_id", "required")
	case strings.HasPrefix(c.PixelID, "t2_"):
		bad("pixel_id", "%q is an ad account id; v3 wants the a2_… pixel id", c.PixelID)
	case !pathSafe(c.PixelID):
		bad("pixel_id", "%q has characters a pixel id never has", c.PixelID)
	}

	c.AccessToken = strings.TrimSpace(c.AccessToken)
	switch {
	case c.AccessToken == "":
		bad("access_token", "required")
	case strings.HasPrefix(strings.ToLower(c.AccessToken), "bearer "):
		bad("access_token", `give the token without the "Bearer " prefix`)
	}

	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if !conversions.HTTPURL(c.BaseURL) {
		bad("base_url", "%q is not an absolute http(s) URL", c.BaseURL)
	}

	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if c.APIVersion != DefaultAPIVersion {
		bad("api_version", "%q is not supported (only v3)", c.APIVersion)
	}

	c.TestID = strings.TrimSpace(c.TestID)
	if c.TestMode && c.TestID == "" {
		bad("test_id", "required when test_mode is true")
	}

	c.ActionSource = strings.ToUpper(strings.TrimSpace(c.ActionSource))
	switch c.ActionSource {
	case "":
		c.ActionSource = ActionWebsite
	case ActionWebsite, ActionApp, ActionPhysicalStore, ActionOther:
	default:
		bad("action_source", "%q is not one of WEBSITE, APP, PHYSICAL_STORE, OTHER", c.ActionSource)
	}

	var calling bool
	if c.DefaultPhoneCountry, calling = conversions.CallingCode(c.DefaultPhoneCountry); !calling {
		bad("default_phone_country", "%q is not a calling code (1 to 3 digits, e.g. 1 or 44)", c.DefaultPhoneCountry)
	}

	if c.Timeout.Validate() != nil {
		bad("timeout", "must not be negative")
	}
	return errors.Join(errs...)
}

// pathSafe reports whether s can go into a URL path as is: pixel ids are
// letters, digits, '_' and '-'.
func pathSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}
