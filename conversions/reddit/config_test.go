package reddit

import (
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{PixelID: " a2_abc123 ", AccessToken: "tok", ActionSource: "website", DefaultPhoneCountry: "+44"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{PixelID: "a2_abc123", AccessToken: "tok", BaseURL: DefaultBaseURL, APIVersion: "v3", ActionSource: ActionWebsite, DefaultPhoneCountry: "44"}
	if c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
}

func TestConfigErrors(t *testing.T) {
	f := func(c Config, wants ...string) {
		t.Helper()
		err := c.Validate()
		if err == nil {
			t.Fatalf("%+v: no error, want %q", c, wants)
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%+v: error %q lacks %q", c, err, w)
			}
		}
	}
	ok := Config{PixelID: "a2_x", AccessToken: "tok"}
	with := func(edit func(*Config)) Config {
		c := ok
		edit(&c)
		return c
	}
	f(Config{}, "pixel_id: required", "access_token: required")
	f(with(func(c *Config) { c.PixelID = "t2_abc" }), "pixel_id:", "ad account id")
	f(with(func(c *Config) { c.PixelID = "a2_x/../y" }), "pixel_id:")
	f(with(func(c *Config) { c.AccessToken = "Bearer tok" }), "access_token:", "Bearer")
	f(with(func(c *Config) { c.BaseURL = "ads-api.reddit.com" }), "base_url:")
	f(with(func(c *Config) { c.APIVersion = "v2.0" }), "api_version:", "only v3")
	f(with(func(c *Config) { c.TestMode = true }), "test_id: required when test_mode is true")
	f(with(func(c *Config) { c.ActionSource = "web" }), "action_source:")
	f(with(func(c *Config) { c.DefaultPhoneCountry = "UK" }), "default_phone_country:")
	f(with(func(c *Config) { c.DefaultPhoneCountry = "0044" }), "default_phone_country:")
	f(with(func(c *Config) { c.Timeout = conversions.Timeout(-time.Second) }), "timeout:")

	// A test_id without test_mode is kept but not sent (see client tests).
	c := with(func(c *Config) { c.TestID = "t" })
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
