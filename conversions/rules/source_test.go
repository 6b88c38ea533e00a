package rules

import (
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func TestSourceOf(t *testing.T) {
	f := func(source, lib, want string) {
		t.Helper()
		if got := SourceOf(&canonical.Event{Source: source, Lib: lib}); got != want {
			t.Fatalf("SourceOf(%q, lib %q) = %q, want %q", source, lib, got, want)
		}
	}
	f("api", "", "api")
	f("inapp", "", "inapp")
	f("crm", "", "crm")
	f("", "", "")
	f("api", "web", "api") // $lib matters for PostHog events only
	f("posthog", "", "posthog")
	f("posthog", "posthog-node", "posthog")
	f("posthog", "posthog-python", "posthog")
	f("posthog", "posthog-go", "posthog")
	f("posthog", "posthog-ios", "posthog")
	f("posthog", "web", "posthog-web")
	f("posthog", "posthog-js-lite", "posthog-web")
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
