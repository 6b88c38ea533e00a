package linkedin

import (
	"strings"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	cfg := Config{ConversionURN: " 104012 ", AccessToken: "tok"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{ConversionURN: "urn:lla:llaPartnerConversion:104012", AccessToken: "tok",
		Version: DefaultVersion, BaseURL: DefaultBaseURL, MaxBatch: PlatformMaxBatch}
	if cfg != want {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
	cfg = Config{ConversionURN: "urn:lla:llaPartnerConversion:1", AccessToken: "t", Version: "202511",
		BaseURL: "http://127.0.0.1:9/", MaxBatch: 100}
	if err := cfg.Validate(); err != nil || cfg.BaseURL != "http://127.0.0.1:9" || cfg.Version != "202511" || cfg.MaxBatch != 100 {
		t.Fatalf("got %+v, %v", cfg, err)
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
				t.Fatalf("%+v: %v lacks %q", cfg, err, w)
			}
		}
	}
	ok := Config{ConversionURN: "1", AccessToken: "t"}
	f(Config{}, "conversion_urn: required", "access_token: required")
	f(Config{ConversionURN: "urn:li:conversion:1", AccessToken: "t"}, "conversion_urn: \"urn:li:conversion:1\" is not")
	f(Config{ConversionURN: "urn:lla:llaPartnerConversion:", AccessToken: "t"}, "conversion_urn:")
	for _, v := range []string{"2026-03", "20260301", "202613", "202600", "v202603", "012345"} {
		c := ok
		c.Version = v
		f(c, "version: \""+v+"\" is not YYYYMM")
	}
	c := ok
	c.BaseURL = "api.linkedin.com"
	f(c, "base_url:")
	c = ok
	c.MaxBatch = PlatformMaxBatch + 1
	f(c, "max_batch: 5001 is outside 1..5000")
	c.MaxBatch = -1
	f(c, "max_batch:")
}
