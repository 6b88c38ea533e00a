package rules

import (
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func TestSourceOf(t *testing.T) {
	f := func(source, lib string, secret bool, want string) {
		t.Helper()
		if got := SourceOf(&canonical.Event{Source: source, Lib: lib, SecretToken: secret}); got != want {
			t.Fatalf("SourceOf(%q, lib %q, secret token %v) = %q, want %q", source, lib, secret, got, want)
		}
	}
	f("api", "", false, "api")
	f("inapp", "", false, "inapp")
	f("crm", "", false, "crm")
	f("", "", false, "")
	f("api", "web", false, "api")
	f("inapp", "", true, "inapp") // the flag is about PostHog events only
	// A PostHog event's source is its credential's, never its $lib's.
	f("posthog", "", true, "posthog")
	f("posthog", "posthog-node", true, "posthog")
	f("posthog", "web", true, "posthog")
	f("posthog", "", false, "posthog-web")
	f("posthog", "posthog-node", false, "posthog-web")
	f("posthog", "posthog-python", false, "posthog-web")
	f("posthog", "web", false, "posthog-web")
	f("posthog", "posthog-js-lite", false, "posthog-web")
}

func TestSourcesAllows(t *testing.T) {
	f := func(s Sources, source string, want bool) {
		t.Helper()
		if got := s.Allows(source); got != want {
			t.Fatalf("%+v.Allows(%q) = %v, want %v", s, source, got, want)
		}
	}
	var def Sources
	f(def, "api", true)
	f(def, "posthog", true)
	f(def, "crm", true)
	f(def, "", true) // pre-provenance events count as server-side
	f(def, "inapp", false)
	f(def, "posthog-web", false)

	anySource := Sources{Any: true}
	f(anySource, "inapp", true)
	f(anySource, "posthog-web", true)
	f(anySource, "", true)

	list := Sources{Names: []string{"api", "posthog"}}
	f(list, "api", true)
	f(list, "posthog", true)
	f(list, "posthog-web", false) // exactly the names listed
	f(list, "inapp", false)
	f(list, "crm", false)
	f(list, "", false)
	f(Sources{Names: []string{"inapp"}}, "inapp", true)
}
