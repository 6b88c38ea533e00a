package meta

import (
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"gopkg.in/yaml.v3"
)

func TestConfigDefaults(t *testing.T) {
	var cfg Config
	src := `{pixel_id: " 1234567890 ", access_token: "EAAB", api_version: "", base_url: "", test_event_code: ""}`
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.PixelID != "1234567890" || cfg.APIVersion != DefaultAPIVersion || cfg.BaseURL != DefaultBaseURL {
		t.Fatalf("defaults not filled: %+v", cfg)
	}
	if got, want := cfg.endpoint(), "https://graph.facebook.com/"+DefaultAPIVersion+"/1234567890/events"; got != want {
		t.Fatalf("endpoint %s, want %s", got, want)
	}
}

func TestConfigYAMLKeys(t *testing.T) {
	var cfg Config
	src := "pixel_id: \"1\"\naccess_token: t\napi_version: v21.0\nbase_url: http://127.0.0.1:9/\ntest_event_code: TEST1\n" +
		"action_source: website\ndefault_phone_country: \"+44\"\ntimeout: 1500ms\n"
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{PixelID: "1", AccessToken: "t", APIVersion: "v21.0", BaseURL: "http://127.0.0.1:9", TestEventCode: "TEST1",
		ActionSource: "website", DefaultPhoneCountry: "44", Timeout: conversions.Timeout(1500 * time.Millisecond)}
	if cfg != want {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
}

func TestConfigErrors(t *testing.T) {
	f := func(cfg Config, want ...string) {
		t.Helper()
		err := cfg.Validate()
		if err == nil {
			t.Fatalf("%+v: no error, want %q", cfg, want)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("error %q lacks %q", err, w)
			}
		}
	}
	f(Config{}, "pixel_id: required", "access_token: required")
	f(Config{PixelID: "px-1", AccessToken: "t"}, "pixel_id: must be digits")
	f(Config{PixelID: "1", AccessToken: "${META_TOKEN}"}, "access_token: contains an unexpanded")
	f(Config{PixelID: "1", AccessToken: "t", APIVersion: "21.0"}, "api_version: must look like")
	f(Config{PixelID: "1", AccessToken: "t", BaseURL: "graph.facebook.com"}, "base_url: must be an absolute")
	f(Config{PixelID: "1", AccessToken: "t", ActionSource: "web"}, "action_source: must be one of")
	f(Config{PixelID: "1", AccessToken: "t", DefaultPhoneCountry: "uk"}, "default_phone_country:")
	f(Config{PixelID: "1", AccessToken: "t", Timeout: conversions.Timeout(-time.Second)}, "timeout: must not be negative")
}
