package meta

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/hogsend/hogsend-proxy/conversions"
)

const (
	// DefaultBaseURL is the Graph API origin.
	DefaultBaseURL = "https://graph.facebook.com"
	// DefaultAPIVersion is the Graph version PostHog and RudderStack use
	// (docs/contracts/ad-platforms.md §2.1). Hogsend's v21.0 is close to the end of its roughly two
	// years of support, so new deployments start on the newer one; the
	// version stays configuration because Meta retires them on a schedule.
	DefaultAPIVersion = "v25.0"
)

var (
	apiVersionRE = regexp.MustCompile(`^v\d+\.\d+$`)
	digitsRE     = regexp.MustCompile(`^\d+$`)
)

// Config is one Meta destination (conversions.destinations.meta). The caller
// expands ${VAR} references before decoding; Validate checks it and fills
// the defaults.
type Config struct {
	// PixelID is the pixel (dataset) id: digits, as Events Manager shows it.
	PixelID string `yaml:"pixel_id"`
	// AccessToken is a system-user or Events Manager token; it travels in the
	// JSON body, never in the URL, so it stays out of proxy and access logs.
	AccessToken string `yaml:"access_token"`
	// APIVersion is the Graph version, "vNN.N"; default DefaultAPIVersion.
	APIVersion string `yaml:"api_version"`
	// BaseURL is the Graph origin; default DefaultBaseURL (tests point it at
	// a fake).
	BaseURL string `yaml:"base_url"`
	// TestEventCode, when set, routes every event to Events Manager's Test
	// Events tab instead of live attribution.
	TestEventCode string `yaml:"test_event_code"`

	// ActionSource forces every event's action_source: email, website,
	// app, phone_call, chat, physical_store, system_generated,
	// business_messaging or other. Empty: "website" for a conversion with a page URL and
	// a user agent (Meta requires both for web events), else
	// "system_generated", Meta's home for CRM and offline events since the
	// Offline Conversions API was retired.
	ActionSource string `yaml:"action_source"`
	// DefaultPhoneCountry is the calling code (digits, e.g. "1" or "44")
	// given to phones stored in national format; without it such a number
	// is hashed as dialled and will probably not match.
	DefaultPhoneCountry string `yaml:"default_phone_country"`
	// Timeout bounds one request (conversions.Timeout). Meta suggests
	// 1.5 s; the dispatcher retries a timeout with the same event_id, which
	// Meta deduplicates.
	Timeout conversions.Timeout `yaml:"timeout"`
}

// actionSources lists the action_source values Meta accepts (docs/contracts/ad-platforms.md §2.2).
const actionSources = "email, website, app, phone_call, chat, physical_store, system_generated, business_messaging, other"

func validActionSource(s string) bool {
	for _, a := range strings.Split(actionSources, ", ") {
		if a == s {
			return true
		}
	}
	return false
}

// Validate reports every invalid field, each error naming its YAML key, and
// fills the defaults of the empty optional ones.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}

	c.PixelID = strings.TrimSpace(c.PixelID)
	switch {
	case c.PixelID == "":
		bad("pixel_id", "required")
	case !digitsRE.MatchString(c.PixelID):
		bad("pixel_id", "must be digits, got %q", c.PixelID)
	}

	c.AccessToken = strings.TrimSpace(c.AccessToken)
	switch {
	case c.AccessToken == "":
		bad("access_token", "required")
	case strings.Contains(c.AccessToken, "${"):
		// An unexpanded reference would only fail later as code 190.
		bad("access_token", "contains an unexpanded ${VAR} reference")
	}

	c.APIVersion = strings.TrimSpace(c.APIVersion)
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	} else if !apiVersionRE.MatchString(c.APIVersion) {
		bad("api_version", "must look like %q, got %q", DefaultAPIVersion, c.APIVersion)
	}

	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	} else if !conversions.HTTPURL(c.BaseURL) {
		bad("base_url", "must be an absolute http(s) URL, got %q", c.BaseURL)
	}

	c.TestEventCode = strings.TrimSpace(c.TestEventCode)

	c.ActionSource = strings.TrimSpace(c.ActionSource)
	if c.ActionSource != "" && !validActionSource(c.ActionSource) {
		bad("action_source", "must be one of %s, got %q", actionSources, c.ActionSource)
	}

	var calling bool
	if c.DefaultPhoneCountry, calling = conversions.CallingCode(c.DefaultPhoneCountry); !calling {
		bad("default_phone_country", "must be a calling code of 1 to 3 digits, got %q", c.DefaultPhoneCountry)
	}

	if err := c.Timeout.Validate(); err != nil {
		bad("timeout", "%s", err)
	}
	return errors.Join(errs...)
}

// endpoint is POST {base}/{version}/{pixel}/events.
func (c *Config) endpoint() string {
	return c.BaseURL + "/" + c.APIVersion + "/" + url.PathEscape(c.PixelID) + "/events"
}
