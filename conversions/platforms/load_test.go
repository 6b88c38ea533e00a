package platforms

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func load(t *testing.T, doc string, env map[string]string) (*Settings, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	return Load(n.Content[0], Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
}

const validDoc = `
destinations:
  meta: {pixel_id: "1234567890", access_token: "${META_TOKEN}", api_version: "v21.0"}
  reddit: {pixel_id: "a2_abc", access_token: "tok", test_mode: true, test_id: "t1"}
consent: {property: marketing_consent, require: true}
delivery: {retry_initial: 2s, retry_max: 1m, breaker_failures: 4, breaker_open_for: 10s}
rules:
  - id: paid_subscription
    trigger: {event: subscription.created, where: [{property: plan, operator: eq, value: pro}]}
    value: {source: property, key: amount, currency_key: currency, divide_by: 100}
    attribution_window: 720h
    destinations: {meta: Purchase, reddit: Purchase}
`

func TestLoadValid(t *testing.T) {
	s, err := load(t, validDoc, map[string]string{"META_TOKEN": "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Enabled() || len(s.Destinations) != 2 || s.Destinations[0].Name() != "meta" || s.Destinations[1].Name() != "reddit" {
		t.Fatalf("destinations %v", s.Destinations)
	}
	if len(s.Rules) != 1 || s.Rules[0].ID != "paid_subscription" || len(s.Rules[0].Destinations) != 2 {
		t.Fatalf("rules %+v", s.Rules)
	}
	if !s.Consent.Require || s.Consent.Property != "marketing_consent" {
		t.Fatalf("consent %+v", s.Consent)
	}
	if s.Dispatch.RetryInitial.String() != "2s" || s.Dispatch.BreakerFailures != 4 {
		t.Fatalf("delivery %+v", s.Dispatch)
	}
}

func TestLoadErrorsNameTheField(t *testing.T) {
	env := map[string]string{"META_TOKEN": "secret"}
	f := func(doc, want string) {
		t.Helper()
		_, err := load(t, doc, env)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want it to contain %q", err, want)
		}
	}
	f(strings.Replace(validDoc, "${META_TOKEN}", "${MISSING_TOKEN}", 1),
		"conversions.destinations.meta.access_token: environment variable MISSING_TOKEN is not set")
	f(strings.Replace(validDoc, `pixel_id: "1234567890", `, "", 1), "conversions.destinations.meta:")
	f(strings.Replace(validDoc, `pixel_id: "1234567890", `, "", 1), "pixel_id")
	f(strings.Replace(validDoc, "meta: {", "myspace: {", 1), `conversions.destinations.myspace: unknown destination`)
	f(strings.Replace(validDoc, "api_version: \"v21.0\"", "api_verison: \"v21.0\"", 1), "api_verison")
	f(strings.Replace(validDoc, "divide_by: 100", "divide_by: 0", 1), "conversions.rules[paid_subscription].value.divide_by")
	f(strings.Replace(validDoc, "reddit: Purchase}", "linkedin: purchase}", 1), "conversions.rules[paid_subscription]")
	f(strings.Replace(validDoc, "operator: eq", "operator: like", 1), "conversions.rules[paid_subscription]")
	f(strings.Replace(validDoc, "require: true", "require: yes please", 1), "conversions.consent")
	f(strings.Replace(validDoc, "retry_initial: 2s", "retry_initial: 2h", 1), "conversions.delivery.retry_initial")
	f(validDoc+"\nextra: 1\n", `conversions: unknown key "extra"`)
}

func TestExpandOnlyBraces(t *testing.T) {
	get := func(k string) string { return "<" + k + ">" }
	for in, want := range map[string]string{
		"a${X}b":     "a<X>b",
		"$X and $":   "$X and $",
		"${A}${B}":   "<A><B>",
		"${unclosed": "${unclosed",
	} {
		if got := expand(in, get); got != want {
			t.Fatalf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

// The example file shipped in config/ parses, with its secrets from the
// environment.
func TestExampleConfigLoads(t *testing.T) {
	raw, err := os.ReadFile("../../config/hogsend.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	node := doc["conversions"]
	s, err := Load(&node, Options{LookupEnv: func(k string) (string, bool) { return "secret-" + strings.ToLower(k), true }})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Destinations) != 6 || len(s.Rules) != 2 {
		t.Fatalf("%d destinations, %d rules", len(s.Destinations), len(s.Rules))
	}
}
