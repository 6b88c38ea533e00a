package linkedin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hogsend/hogsend-proxy/conversions"
)

const (
	// DefaultBaseURL is LinkedIn's API host; the path is fixed.
	DefaultBaseURL = "https://api.linkedin.com"
	// DefaultVersion is the LinkedIn-Version sent when none is configured.
	// Versions are monthly and sunset after about a year (426 afterwards),
	// so deployments should pin their own; 202607 is the newest version
	// seen in production integrations (PostHog's template).
	DefaultVersion = "202607"
	// PlatformMaxBatch is the largest BATCH_CREATE LinkedIn accepts.
	PlatformMaxBatch = 5000
	// conversionURNPrefix starts every conversion rule URN.
	conversionURNPrefix = "urn:lla:llaPartnerConversion:"
	// externalIDsSince is the first version with user.externalIds.
	externalIDsSince = "202410"
)

// Config is the conversions.destinations.linkedin block. ${VAR} references
// are expanded by the caller before decoding.
//
// LinkedIn has no test mode (docs/contracts/ad-platforms.md §5.5): to try a setup without polluting
// reporting, point conversion_urn at a dedicated test conversion rule. There
// are no consent fields either: consent is enforced before a conversion
// reaches this client.
type Config struct {
	// ConversionURN is the conversion rule every conversion is attributed
	// to: "urn:lla:llaPartnerConversion:<id>"; a bare numeric id is
	// accepted and expanded. The rule must be created with the
	// CONVERSIONS_API method.
	ConversionURN string `yaml:"conversion_urn"`
	// AccessToken is a member OAuth token with Marketing API access. It
	// lasts about 60 days; refreshing it is outside this client, which
	// halts the destination on 401.
	AccessToken string `yaml:"access_token"`
	// Version is the LinkedIn-Version header, YYYYMM (default DefaultVersion).
	Version string `yaml:"version"`
	// BaseURL is scheme and host (default DefaultBaseURL); tests point it
	// at a fake.
	BaseURL string `yaml:"base_url"`
	// MaxBatch optionally lowers the batch size below LinkedIn's 5,000,
	// e.g. to keep one request small; 0 means PlatformMaxBatch.
	MaxBatch int `yaml:"max_batch"`
	// Timeout bounds one request (conversions.Timeout).
	Timeout conversions.Timeout `yaml:"timeout"`
}

// Validate checks the config, naming the faulty field, and fills defaults.
func (c *Config) Validate() error {
	var errs []error
	c.ConversionURN = strings.TrimSpace(c.ConversionURN)
	switch {
	case c.ConversionURN == "":
		errs = append(errs, errors.New("conversion_urn: required"))
	case allDigits(c.ConversionURN):
		c.ConversionURN = conversionURNPrefix + c.ConversionURN
	case !ValidConversionURN(c.ConversionURN):
		errs = append(errs, fmt.Errorf("conversion_urn: %q is not %s<digits>", c.ConversionURN, conversionURNPrefix))
	}
	c.AccessToken = strings.TrimSpace(c.AccessToken)
	if c.AccessToken == "" {
		errs = append(errs, errors.New("access_token: required"))
	}
	c.Version = strings.TrimSpace(c.Version)
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if !ValidVersion(c.Version) {
		errs = append(errs, fmt.Errorf("version: %q is not YYYYMM (e.g. %s)", c.Version, DefaultVersion))
	}
	if err := c.Timeout.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("timeout: %w", err))
	}
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if !conversions.HTTPURL(c.BaseURL) {
		errs = append(errs, fmt.Errorf("base_url: %q is not an http(s) URL", c.BaseURL))
	}
	switch {
	case c.MaxBatch == 0:
		c.MaxBatch = PlatformMaxBatch
	case c.MaxBatch < 0 || c.MaxBatch > PlatformMaxBatch:
		errs = append(errs, fmt.Errorf("max_batch: %d is outside 1..%d", c.MaxBatch, PlatformMaxBatch))
	}
	if len(errs) > 0 {
		return fmt.Errorf("linkedin config: %w", errors.Join(errs...))
	}
	return nil
}

// ValidVersion reports whether v is a LinkedIn-Version: YYYYMM with a real
// month. Whether LinkedIn still serves it is only known by asking (426).
func ValidVersion(v string) bool {
	if len(v) != 6 || !allDigits(v) || v[0] == '0' {
		return false
	}
	month := v[4:]
	return month >= "01" && month <= "12"
}

// ValidConversionURN reports whether s is urn:lla:llaPartnerConversion:<digits>.
func ValidConversionURN(s string) bool {
	id, ok := strings.CutPrefix(s, conversionURNPrefix)
	return ok && allDigits(id)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
