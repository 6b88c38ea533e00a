package googleads

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// Defaults filled in by Validate.
const (
	DefaultBaseURL  = "https://googleads.googleapis.com"
	DefaultTokenURL = "https://oauth2.googleapis.com/token"
	// DefaultAPIVersion is the version whose protos the documented contract was
	// read from (G-proto v24, PostHog's template). Google sunsets a version
	// about a year after release, so deployments pin a newer one in config.
	DefaultAPIVersion = "v24"
	DefaultTimeout    = 30 * time.Second
	// MaxClickWindow is the longest click-through window Google allows; a
	// conversion whose click is older is EXPIRED_EVENT.
	MaxClickWindow = 90 * 24 * time.Hour
)

// Config is the google_ads destination. Values arrive with ${VAR} already
// expanded by the caller.
type Config struct {
	// CustomerID is the Ads account receiving the conversions: 10 digits,
	// dashes allowed ("123-123-1234"); Validate strips them.
	CustomerID string `yaml:"customer_id"`
	// ConversionAction is the default action, "customers/<cid>/conversionActions/<id>"
	// or the bare numeric id. A rule may name another action in the
	// conversion's EventName (same two forms); any other EventName uses this.
	ConversionAction string `yaml:"conversion_action"`
	DeveloperToken   string `yaml:"developer_token"`
	// ClientID, ClientSecret and RefreshToken feed the OAuth2 refresh-token
	// flow at TokenURL (scope https://www.googleapis.com/auth/adwords).
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	RefreshToken string `yaml:"refresh_token"`
	TokenURL     string `yaml:"token_url"`
	// LoginCustomerID is the manager (MCC) account to call through, if any;
	// sent as the login-customer-id header, digits only.
	LoginCustomerID string `yaml:"login_customer_id"`
	APIVersion      string `yaml:"api_version"` // "v24" (or "24")
	BaseURL         string `yaml:"base_url"`
	// ValidateOnly sends validateOnly:true: Google checks the upload and
	// records nothing (the platform's test mode).
	ValidateOnly bool `yaml:"validate_only"`

	// DefaultPhoneCountry is the calling code (digits, e.g. "1" or "44") for
	// phones stored in national format; without it such phones are left out
	// rather than hashed in a form that cannot match.
	DefaultPhoneCountry string `yaml:"default_phone_country"`
	// Timeout bounds each HTTP request (conversions.Timeout).
	Timeout conversions.Timeout `yaml:"timeout"`
	// ClickWindow is the conversion action's click-through window; older
	// conversions (or clicks) are rejected before sending. At most 90 days.
	ClickWindow time.Duration `yaml:"click_window"`
}

var (
	versionRE = regexp.MustCompile(`^v[0-9]+$`)
	actionRE  = regexp.MustCompile(`^customers/([0-9-]+)/conversionActions/([0-9]+)$`)
)

// Validate normalises c in place (digits-only ids, full conversion action
// resource name, "vNN" version), fills defaults and reports every problem,
// each error naming its YAML field.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, problem string) { errs = append(errs, errors.New(field+": "+problem)) }

	if c.CustomerID == "" {
		bad("customer_id", "required")
	} else if id, ok := accountID(c.CustomerID); ok {
		c.CustomerID = id
	} else {
		bad("customer_id", fmt.Sprintf("want 10 digits (dashes allowed), got %q", c.CustomerID))
	}
	if c.LoginCustomerID != "" {
		if id, ok := accountID(c.LoginCustomerID); ok {
			c.LoginCustomerID = id
		} else {
			bad("login_customer_id", fmt.Sprintf("want 10 digits (dashes allowed), got %q", c.LoginCustomerID))
		}
	}
	if c.ConversionAction == "" {
		bad("conversion_action", "required")
	} else if a, ok := conversionAction(c.ConversionAction, c.CustomerID); ok {
		c.ConversionAction = a
	} else {
		bad("conversion_action", fmt.Sprintf("want customers/<customer id>/conversionActions/<id> or a numeric id, got %q", c.ConversionAction))
	}
	for _, f := range []struct{ name, value string }{
		{"developer_token", c.DeveloperToken},
		{"client_id", c.ClientID},
		{"client_secret", c.ClientSecret},
		{"refresh_token", c.RefreshToken},
	} {
		if strings.TrimSpace(f.value) == "" {
			bad(f.name, "required")
		}
	}

	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if !strings.HasPrefix(c.APIVersion, "v") {
		c.APIVersion = "v" + c.APIVersion
	}
	if !versionRE.MatchString(c.APIVersion) {
		bad("api_version", fmt.Sprintf("want vNN (e.g. %s), got %q", DefaultAPIVersion, c.APIVersion))
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if !conversions.HTTPURL(c.BaseURL) {
		bad("base_url", fmt.Sprintf("want an absolute http(s) URL, got %q", c.BaseURL))
	}
	if c.TokenURL == "" {
		c.TokenURL = DefaultTokenURL
	}
	if !conversions.HTTPURL(c.TokenURL) {
		bad("token_url", fmt.Sprintf("want an absolute http(s) URL, got %q", c.TokenURL))
	}

	var calling bool
	if c.DefaultPhoneCountry, calling = conversions.CallingCode(c.DefaultPhoneCountry); !calling {
		bad("default_phone_country", fmt.Sprintf("want a calling code of 1 to 3 digits, got %q", c.DefaultPhoneCountry))
	}
	if c.Timeout.Validate() != nil {
		bad("timeout", "must be positive")
	}
	switch {
	case c.ClickWindow == 0:
		c.ClickWindow = MaxClickWindow
	case c.ClickWindow < 0 || c.ClickWindow > MaxClickWindow:
		bad("click_window", fmt.Sprintf("must be between 0 and %s", MaxClickWindow))
	}
	return errors.Join(errs...)
}

// accountID strips the dashes (and spaces) people copy from the Ads UI and
// checks for the 10 digits the API wants.
func accountID(raw string) (string, bool) {
	id := strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(raw))
	return id, len(id) == 10 && allDigits(id)
}

// conversionAction returns the resource name for a numeric id or a resource
// name (dashes in its customer id removed); false for anything else. Google
// validates only the action id, so the customer part is not compared.
func conversionAction(raw, customerID string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if allDigits(raw) {
		return "customers/" + customerID + "/conversionActions/" + raw, true
	}
	m := actionRE.FindStringSubmatch(raw)
	if m == nil {
		return "", false
	}
	cid, ok := accountID(m[1])
	if !ok {
		return "", false
	}
	return "customers/" + cid + "/conversionActions/" + m[2], true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
