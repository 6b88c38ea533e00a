package tiktok

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hogsend/hogsend-proxy/conversions"
)

func TestConfigYAMLAndDefaults(t *testing.T) {
	// The line for this destination.
	var cfg Config
	raw := `{pixel_code: "CABCD1234567890", access_token: "tok", base_url: "", test_event_code: ""}`
	if err := yaml.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != DefaultBaseURL || cfg.APIVersion != "v1.3" || cfg.MaxAge != "168h" || cfg.Timeout.Duration() != 30*time.Second {
		t.Fatalf("defaults not filled: %+v", cfg)
	}
	if got := cfg.endpoint(); got != "https://business-api.tiktok.com/open_api/v1.3/event/track/" {
		t.Fatalf("endpoint %s", got)
	}

	cfg = Config{PixelCode: "C1", AccessToken: "t", BaseURL: "http://127.0.0.1:9/prefix/", APIVersion: "v1.4"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := cfg.endpoint(); got != "http://127.0.0.1:9/prefix/open_api/v1.4/event/track/" {
		t.Fatalf("endpoint %s", got)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	f := func(cfg Config, want ...string) {
		t.Helper()
		err := cfg.Validate()
		if err == nil {
			t.Fatalf("%+v: no error, want %q", cfg, want)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%+v: %q does not contain %q", cfg, err, w)
			}
		}
	}
	f(Config{}, "pixel_code: required", "access_token: required")
	f(Config{PixelCode: "${TIKTOK_PIXEL}", AccessToken: "t"}, "pixel_code: \"${TIKTOK_PIXEL}\" must be letters and digits")
	f(Config{PixelCode: "C1", AccessToken: "${TIKTOK_TOKEN}"}, "access_token: looks like an unexpanded")
	f(Config{PixelCode: "C1", AccessToken: "a b"}, "access_token: must not contain spaces")
	f(Config{PixelCode: "C1", AccessToken: "t", BaseURL: "business-api.tiktok.com"}, "base_url:")
	f(Config{PixelCode: "C1", AccessToken: "t", APIVersion: "1.3"}, "api_version:")
	f(Config{PixelCode: "C1", AccessToken: "t", TestEventCode: "TEST 1"}, "test_event_code:")
	f(Config{PixelCode: "C1", AccessToken: "t", DefaultPhoneCountry: "0044"}, "default_phone_country:")
	f(Config{PixelCode: "C1", AccessToken: "t", MaxAge: "7d"}, "max_age:")
	f(Config{PixelCode: "C1", AccessToken: "t", Timeout: conversions.Timeout(-time.Second)}, "timeout:")

	if _, err := New(Config{}, conversions.ClientOptions{}); err == nil || !strings.Contains(err.Error(), "tiktok config: pixel_code: required") {
		t.Fatalf("New: %v", err)
	}
}
