package app

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
)

const testSecretToken = "phs_test_server_secret"

// victimState is what must not change: the contact as the find route
// shows it, and its aliases in ClickHouse.
type victimState struct {
	contact map[string]any
	aliases [][]string
}

func readVictim(t *testing.T, h *harness) victimState {
	t.Helper()
	cs := find(t, h, "email=victim@corp.com")
	if len(cs) != 1 {
		t.Fatalf("victim by email = %v, want one contact", cs)
	}
	c := cs[0]
	id := c["id"].(string)
	return victimState{contact: c, aliases: h.rows("SELECT alias_kind, alias_value FROM contact_aliases FINAL " +
		"WHERE contact_id = toUUID('" + id + "') AND is_deleted = 0 ORDER BY alias_kind, alias_value")}
}

// capture sends one event to /batch/ with token; props is the properties object's text.
func captureEvent(t *testing.T, h *harness, token, event, distinct, props string) {
	t.Helper()
	body := `{"api_key":"` + token + `","batch":[{"event":"` + event + `","distinct_id":"` + distinct + `","properties":` + props + `}]}`
	if r := h.do("POST", "/batch/", "", "application/json", body); r.status != 200 {
		t.Fatalf("capture %s: %d %s", body, r.status, r.body)
	}
}

// TestCaptureTakeoverEndToEnd sends each takeover payload with the public
// token to the running proxy (Redis, ClickHouse) and finds the victim's
// contact unchanged (email, external id, properties, aliases), then makes
// the same joins with the victim's userToken and with a secret token.
func TestCaptureTakeoverEndToEnd(t *testing.T) {
	cfg, _, _ := serverConfig(t)
	cfg.PostHogTokens = []string{"phc_public"}
	cfg.PostHogSecretTokens = []string{testSecretToken}
	h := startHarness(t, cfg)

	// The victim: created by the backend, then the login flow of its browser
	// with the public token links the browser's anonymous person.
	created := upsert(t, h, `{"email":"victim@corp.com","userId":"victim-1","properties":{"plan":"gold"}}`)
	captureEvent(t, h, "phc_public", "$pageview", "victim-anon", `{"$set":{"theme":"dark"}}`)
	captureEvent(t, h, "phc_public", "$identify", "victim-1", `{"$anon_distinct_id":"victim-anon"}`)
	before := readVictim(t, h)
	if before.contact["id"] != created["id"] || before.contact["externalId"] != "victim-1" {
		t.Fatalf("native and PostHog traffic are not one contact: %v, created %v", before.contact, created["id"])
	}
	wantAliases := [][]string{{"anonymous", "victim-anon"}, {"email", "victim@corp.com"}, {"external", "victim-1"}}
	if !reflect.DeepEqual(before.aliases, wantAliases) {
		t.Fatalf("victim aliases = %v, want %v", before.aliases, wantAliases)
	}
	victimID := created["id"].(string)

	attacks := []struct{ event, distinct, props string }{
		{"$set", "attacker-1", `{"$set":{"email":"victim@corp.com","plan":"pwned"}}`},
		{"$identify", "attacker-2", `{"$set":{"email":"Victim@Corp.com"}}`},
		{"$merge_dangerously", "attacker-1", `{"alias":"victim-1"}`},
		{"$merge_dangerously", "attacker-1", `{"alias":"victim-anon"}`},
		{"$create_alias", "attacker-1", `{"alias":"victim-1"}`},
		{"$identify", "attacker-3", `{"$anon_distinct_id":"victim-1","$set":{"plan":"pwned"}}`},
		{"$merge_dangerously", "attacker-1", `{"alias":"victim-1","$hogsend_user_token":"` +
			apikeys.SignUserToken("attacker-1", time.Now().Add(time.Hour), testUserTokenSecret) + `"}`},
	}
	for _, a := range attacks {
		captureEvent(t, h, "phc_public", a.event, a.distinct, a.props)
		if after := readVictim(t, h); !reflect.DeepEqual(after, before) {
			t.Fatalf("%s %s changed the victim:\n got  %v\n want %v", a.event, a.props, after, before)
		}
	}
	if n := h.count("SELECT count() FROM user_events WHERE startsWith(distinct_id, 'attacker') AND contact_id = toUUID('" + victimID + "')"); n != 0 {
		t.Fatalf("%d attacker events landed on the victim's contact", n)
	}
	if n := h.count("SELECT count() FROM user_events FINAL WHERE startsWith(distinct_id, 'attacker')"); n != len(attacks) {
		t.Fatalf("attacker events stored = %d, want all %d (refused joins are still stored)", n, len(attacks))
	}

	// The victim's own userToken proves the victim: a second browser joins.
	token := apikeys.SignUserToken("victim-1", time.Now().Add(time.Hour), testUserTokenSecret)
	captureEvent(t, h, "phc_public", "$pageview", "victim-laptop", `{}`)
	captureEvent(t, h, "phc_public", "$merge_dangerously", "victim-laptop", `{"alias":"victim-1","$hogsend_user_token":"`+token+`"}`)
	joined := readVictim(t, h)
	if joined.contact["externalId"] != "victim-1" || !slicesContain(joined.aliases, []string{"anonymous", "victim-laptop"}) {
		t.Fatalf("proven join: %v", joined)
	}
	if n := h.count("SELECT count() FROM user_events WHERE position(properties, '$hogsend_user_token') > 0"); n != 0 {
		t.Fatalf("%d stored events carry the user token", n)
	}

	// A secret token joins two identified people.
	captureEvent(t, h, testSecretToken, "$identify", "other-user", `{"$set":{"email":"other@corp.com"}}`)
	captureEvent(t, h, testSecretToken, "$merge_dangerously", "victim-1", `{"alias":"other-user"}`)
	cs := find(t, h, "email=other@corp.com")
	if len(cs) != 1 || cs[0]["externalId"] != "victim-1" || cs[0]["email"] != "victim@corp.com" {
		t.Fatalf("secret join: other@corp.com finds %v, want the victim's contact", cs)
	}
}

// TestCaptureVerifiedIdentityEndToEnd: under HOGSEND_POSTHOG_IDENTITY=verified
// the public token cannot change an identified contact without its userToken.
func TestCaptureVerifiedIdentityEndToEnd(t *testing.T) {
	cfg, _, _ := serverConfig(t)
	cfg.PostHogIdentity = "verified"
	h := startHarness(t, cfg)
	upsert(t, h, `{"email":"victim@corp.com","userId":"victim-1","properties":{"plan":"gold"}}`)
	before := readVictim(t, h)
	captureEvent(t, h, "phc_public", "$set", "victim-1", `{"$set":{"plan":"pwned"}}`)
	captureEvent(t, h, "phc_public", "$identify", "victim-1", `{"$anon_distinct_id":"attacker-anon"}`)
	if after := readVictim(t, h); !reflect.DeepEqual(after, before) {
		t.Fatalf("unproven writes changed the victim:\n got  %v\n want %v", after, before)
	}
	token := apikeys.SignUserToken("victim-1", time.Now().Add(time.Hour), testUserTokenSecret)
	captureEvent(t, h, "phc_public", "$set", "victim-1", `{"$set":{"plan":"platinum"},"$hogsend_user_token":"`+token+`"}`)
	if p := readVictim(t, h).contact["properties"].(map[string]any); p["plan"] != "platinum" {
		t.Fatalf("proven $set: properties %v", p)
	}
}

func slicesContain(rows [][]string, want []string) bool {
	for _, r := range rows {
		if strings.Join(r, "\x00") == strings.Join(want, "\x00") {
			return true
		}
	}
	return false
}
