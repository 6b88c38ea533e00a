package googleads

import (
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

func validConfig() Config {
	return Config{
		CustomerID:       "123-123-1234",
		ConversionAction: "customers/123-123-1234/conversionActions/123456789",
		DeveloperToken:   "DEVTOKEN",
		ClientID:         "id",
		ClientSecret:     "secret",
		RefreshToken:     "refresh",
		LoginCustomerID:  "567-567-5678",
	}
}

func TestConfigDefaultsAndNormalisation(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	f := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s = %q, want %q", name, got, want)
		}
	}
	f("customer_id", c.CustomerID, "1231231234")
	f("login_customer_id", c.LoginCustomerID, "5675675678")
	f("conversion_action", c.ConversionAction, "customers/1231231234/conversionActions/123456789")
	f("api_version", c.APIVersion, "v24")
	f("base_url", c.BaseURL, "https://googleads.googleapis.com")
	f("token_url", c.TokenURL, "https://oauth2.googleapis.com/token")
	if c.Timeout.Duration() != 30*time.Second || c.ClickWindow != 90*24*time.Hour {
		t.Fatalf("timeout %s, click window %s", c.Timeout, c.ClickWindow)
	}

	c = validConfig()
	c.ConversionAction, c.APIVersion, c.BaseURL, c.DefaultPhoneCountry = "987", "26", "http://localhost:1/", "+44"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	f("numeric conversion_action", c.ConversionAction, "customers/1231231234/conversionActions/987")
	f("bare version", c.APIVersion, "v26")
	f("base_url slash", c.BaseURL, "http://localhost:1")
	f("default_phone_country", c.DefaultPhoneCountry, "44")
}

func TestConfigErrorsNameTheField(t *testing.T) {
	f := func(edit func(*Config), want string) {
		t.Helper()
		c := validConfig()
		edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want it to contain %q", err, want)
		}
	}
	f(func(c *Config) { c.CustomerID = "" }, "customer_id: required")
	f(func(c *Config) { c.CustomerID = "12345" }, "customer_id: want 10 digits")
	f(func(c *Config) { c.LoginCustomerID = "abc" }, "login_customer_id: want 10 digits")
	f(func(c *Config) { c.ConversionAction = "" }, "conversion_action: required")
	f(func(c *Config) { c.ConversionAction = "Purchase" }, "conversion_action: want customers/")
	f(func(c *Config) { c.DeveloperToken = "" }, "developer_token: required")
	f(func(c *Config) { c.ClientID = "" }, "client_id: required")
	f(func(c *Config) { c.ClientSecret = " " }, "client_secret: required")
	f(func(c *Config) { c.RefreshToken = "" }, "refresh_token: required")
	f(func(c *Config) { c.APIVersion = "latest" }, "api_version: want vNN")
	f(func(c *Config) { c.BaseURL = "googleads.googleapis.com" }, "base_url: want an absolute")
	f(func(c *Config) { c.TokenURL = "ftp://x/token" }, "token_url: want an absolute")
	f(func(c *Config) { c.DefaultPhoneCountry = "UK" }, "default_phone_country: want a calling code")
	f(func(c *Config) { c.Timeout = conversions.Timeout(-time.Second) }, "timeout: must be positive")
	f(func(c *Config) { c.ClickWindow = 91 * 24 * time.Hour }, "click_window: must be between")

	// Every problem at once, not just the first.
	var c Config
	err := c.Validate()
	for _, field := range []string{"customer_id", "conversion_action", "developer_token", "client_id", "client_secret", "refresh_token"} {
		if err == nil || !strings.Contains(err.Error(), field+": required") {
			t.Fatalf("empty config: %v, want %s: required", err, field)
		}
	}
}
