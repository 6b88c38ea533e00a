package fakeposthog

import (
	"testing"
	"time"

	"github.com/posthog/posthog-go"
)

// posthog-go pointed straight at the fake: its batches pass the checks,
// each uuid is counted once, and its flags call reads the fake's flags. It
// sends its $feature_flag_called events with an empty uuid, which capture-rs
// fills in, hence AllowMissingUUID.
func TestPostHogGoClient(t *testing.T) {
	s := start(t, Options{AllowMissingUUID: true})
	s.SetFlag("beta", true)
	s.SetFlagFor("user-2", "pricing", "annual")
	client, err := posthog.NewWithConfig(token, posthog.Config{Endpoint: s.URL(), BatchSize: 10, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		err := client.Enqueue(posthog.Capture{Uuid: uuidN(i), DistinctId: "user-2", Event: "ordered",
			Properties: posthog.NewProperties().Set("$ip", "198.51.100.7").Set("n", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	beta, err := client.IsFeatureEnabled(posthog.FeatureFlagPayload{Key: "beta", DistinctId: "user-2"})
	if err != nil || beta != true {
		t.Fatalf("beta = %v, %v; want true", beta, err)
	}
	pricing, err := client.GetFeatureFlag(posthog.FeatureFlagPayload{Key: "pricing", DistinctId: "user-2"})
	if err != nil || pricing != "annual" {
		t.Fatalf("pricing = %v, %v; want annual", pricing, err)
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]Event{}
	for _, e := range s.Events() {
		got[e.UUID] = e
	}
	for i := 0; i < 3; i++ {
		e, ok := got[uuidN(i)]
		if !ok || e.DistinctID != "user-2" || e.IP != "198.51.100.7" || e.Properties["n"] != float64(i) || e.Timestamp == "" {
			t.Fatalf("event %d: %+v (found %v) among %d", i, e, ok, len(got))
		}
	}
	if s.Duplicates() != 0 || s.Batches().Refused != 0 || s.Count() != 5 {
		t.Fatalf("count %d duplicates %d batches %+v, want 3 events and 2 $feature_flag_called", s.Count(), s.Duplicates(), s.Batches())
	}
	for _, e := range s.Events() {
		if (e.Event == "$feature_flag_called") != e.GeneratedUUID {
			t.Fatalf("event %s generated uuid %v", e.Event, e.GeneratedUUID)
		}
	}
	if asked := s.FlagRequests(); len(asked) != 2 || asked[0].DistinctID != "user-2" {
		t.Fatalf("flag requests %+v", asked)
	}
}
