// Package rules parses the conversion rules of the YAML config
// (`conversions.rules`) and decides, for each fresh event, which rules it
// triggers and what value the conversion carries. It follows Hogsend's
// own conversion definitions and condition model.
package rules

import (
	"time"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

const (
	// DefaultAttributionWindow applies when a rule sets no attribution_window
	// (Hogsend's attributionWindowDays default).
	DefaultAttributionWindow = 90 * 24 * time.Hour
	// MaxAttributionWindow is the longest attribution_window a rule may set.
	MaxAttributionWindow = 400 * 24 * time.Hour
)

// Rule is one conversion rule: which fresh events convert, with what value,
// and under which event name each destination receives them.
type Rule struct {
	ID    string
	Event string // trigger.event: the event name that fires the rule
	// Where are trigger.where's conditions, all of which must pass.
	Where []Condition
	// Sources decides which event sources may fire the rule (see SourceOf).
	Sources Sources
	Value   ValueSpec
	// AttributionWindow bounds how old a click may be to be attributed.
	AttributionWindow time.Duration
	// Destinations are the platforms the conversion goes to, in YAML order.
	Destinations []Destination
}

// Destination pairs a configured destination with the platform's event name
// for this rule (e.g. {"meta", "Purchase"}).
type Destination struct{ Name, EventName string }

// Matches reports whether ev triggers r: ev is fresh (not a historical
// import), has the trigger's name, comes from an allowed source and passes
// every condition.
func (r *Rule) Matches(ev *canonical.Event) bool {
	if ev.Historical || ev.Name != r.Event {
		return false
	}
	if !r.Sources.Allows(SourceOf(ev)) {
		return false
	}
	for i := range r.Where {
		if !r.Where[i].Matches(ev) {
			return false
		}
	}
	return true
}
