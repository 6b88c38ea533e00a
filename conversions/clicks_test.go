package conversions

import (
	"slices"
	"strings"
	"testing"
)

func TestExtractClicks(t *testing.T) {
	f := func(props string, want ...string) {
		t.Helper()
		var got []string
		for _, c := range ExtractClicks([]byte(props)) {
			got = append(got, c.Kind+"="+c.Value)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("ExtractClicks(%s) = %q, want %q", props, got, want)
		}
	}
	f(`{}`)
	f(`not json`)
	// posthog-js campaign params and cookies.
	f(`{"gclid":"Cj0K","fbclid":"IwAR","$fbp":"fb.1.1.2","_ttp":"tt","plan":"pro"}`,
		"gclid=Cj0K", "fbclid=IwAR", "fbp=fb.1.1.2", "ttp=tt")
	// PostHog person properties set on the event: $initial_*.
	f(`{"$set_once":{"$initial_gclid":"g1","$initial_li_fat_id":"li"},"$set":{"rdt_cid":"r1"}}`,
		"gclid=g1", "li_fat_id=li", "rdt_cid=r1")
	// Hogsend's campaign.arrived.
	f(`{"clickIds":{"ttclid":"t1","wbraid":"w1"}}`, "ttclid=t1", "wbraid=w1")
	// The landing URL's query.
	f(`{"$current_url":"https://shop.example/?utm_source=x&gclid=Q1&fbclid=F1#top"}`, "gclid=Q1", "fbclid=F1")
	// The property wins over the URL; empty and non-string values are ignored.
	f(`{"gclid":"P","$current_url":"https://x/?gclid=U","fbclid":"","ttclid":5}`, "gclid=P")
	// Google Analytics' client id, from the _ga cookie or PostHog's property.
	f(`{"_ga":"GA1.1.1234567890.1700000000"}`, "ga_client_id=1234567890.1700000000")
	f(`{"$ga_client_id":"555.666"}`, "ga_client_id=555.666")
	// Oversize values are not ids.
	f(`{"gclid":"` + strings.Repeat("x", 600) + `"}`)
	// Case matters: fbc values are case-sensitive and kept as sent.
	f(`{"_fbc":"fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890"}`, "fbc=fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890")
}

func FuzzExtractClicks(f *testing.F) {
	f.Add([]byte(`{"gclid":"a","$current_url":"https://x/?fbclid=b"}`))
	f.Add([]byte(`{"$set_once":{"$initial_ttclid":"c"}}`))
	f.Fuzz(func(t *testing.T, props []byte) {
		seen := map[string]bool{}
		for _, c := range ExtractClicks(props) {
			if c.Value == "" || len(c.Value) > maxClickIDBytes || seen[c.Kind] {
				t.Fatalf("bad click %+v", c)
			}
			if _, ok := clickKindOf(c.Kind); !ok {
				t.Fatalf("unknown kind %q", c.Kind)
			}
			seen[c.Kind] = true
		}
	})
}

func TestConsentOf(t *testing.T) {
	f := func(prop, event, contact string, want Consent) {
		t.Helper()
		if got := consentOf(prop, []byte(event), []byte(contact)); got != want {
			t.Fatalf("consentOf(%q, %s, %s) = %q, want %q", prop, event, contact, got, want)
		}
	}
	f("", `{"marketing_consent":true}`, `{}`, ConsentUnknown)
	f("marketing_consent", `{"marketing_consent":true}`, `{}`, ConsentGranted)
	f("marketing_consent", `{}`, `{"marketing_consent":"denied"}`, ConsentDenied)
	f("marketing_consent", `{"marketing_consent":false}`, `{"marketing_consent":true}`, ConsentDenied)
	f("marketing_consent", `{"marketing_consent":"maybe"}`, `{"marketing_consent":1}`, ConsentGranted)
	f("consent.ads", `{"consent.ads":"yes"}`, `{}`, ConsentGranted)
	f("marketing_consent", `{}`, `{}`, ConsentUnknown)
}

func TestDedupIDIsHogsends(t *testing.T) {
	// hex(sha256("c:r:e")), the id a browser pixel computes too.
	if got := DedupID("c", "r", "e"); got != "b22f187b9066b8031395fd2f8cf5ef4bb7145dd2f5316ea9d24101d7fdf57a13" {
		t.Fatalf("DedupID = %s", got)
	}
	if DedupID("c", "r", "e") != DedupID("c", "r", "e") || DedupID("c", "r", "e") == DedupID("c", "r2", "e") {
		t.Fatal("DedupID is not a function of its inputs")
	}
}

// Found values outlive the properties they came from (the spool reuses its
// read buffer).
func TestExtractClicksCopiesValues(t *testing.T) {
	props := []byte(`{"gclid":"abc","$current_url":"https://x/?fbclid=def"}`)
	found := ExtractClicks(props)
	for i := range props {
		props[i] = 'x'
	}
	var got []string
	for _, c := range found {
		got = append(got, c.Kind+"="+c.Value)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"fbclid=def", "gclid=abc"}) {
		t.Fatalf("values changed with their source: %q", got)
	}
}
