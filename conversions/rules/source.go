package rules

import (
	"slices"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Source names with a meaning of their own.
const (
	SourceInApp   = "inapp"   // native events sent with a publishable (browser) key
	SourcePostHog = "posthog" // PostHog events sent with a server-side secret token
	// SourcePostHogWeb is a PostHog event sent with the public project
	// token, whatever library it names: as forgeable as an inapp event.
	SourcePostHogWeb = "posthog-web"
)

// Sources decides which event sources may fire a rule. The zero value is the
// default: every source except the browser-originated ones (SourceInApp and
// SourcePostHogWeb), Hogsend's guard against values forged in a browser.
type Sources struct {
	Any   bool     // `sources: any`: every source, browsers included
	Names []string // an explicit list: exactly these sources; empty means the default
}

// Allows reports whether an event whose SourceOf is source may fire the rule.
func (s Sources) Allows(source string) bool {
	switch {
	case s.Any:
		return true
	case len(s.Names) > 0:
		return source != "" && slices.Contains(s.Names, source)
	default:
		return source != SourceInApp && source != SourcePostHogWeb
	}
}

// SourceOf is the source name rules see for ev: ev.Source for native events
// ("api", "inapp" or whatever the client sent), and for PostHog events what
// their credential says, never their payload ($lib is client-set):
// "posthog" with a server-side secret token, else "posthog-web"
// (docs/identity-trust.md § Conversion sources).
func SourceOf(ev *canonical.Event) string {
	if ev.Source != SourcePostHog {
		return ev.Source
	}
	if ev.SecretToken {
		return SourcePostHog
	}
	return SourcePostHogWeb
}
