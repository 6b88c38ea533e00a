package fakeposthog

import (
	"encoding/json"
	"net/http"
	"testing"
)

// flagsCall is the body posthog-node and posthog-js post to /flags.
func flagsCall(t *testing.T, distinctID string) []byte {
	return jsonOf(t, map[string]any{"token": token, "distinct_id": distinctID, "groups": map[string]any{},
		"person_properties": map[string]any{"$device_id": "dev-1"}, "group_properties": map[string]any{}})
}

func projectWithFlags(t *testing.T) *Server {
	s := start(t, Options{})
	s.SetFlag("new-checkout", true)
	s.SetFlag("dark-mode", false)
	s.SetFlag("pricing", "variant-b")
	s.SetFlagPayload("pricing", map[string]any{"discount": 10})
	s.SetFlagFor("vip", "dark-mode", true)
	s.SetFlagFor("vip", "pricing", "variant-c")
	return s
}

func TestFlagsGolden(t *testing.T) {
	f := func(name string, w wire) {
		t.Run(name, func(t *testing.T) {
			s := projectWithFlags(t)
			if name == "flags_none_set" {
				s = start(t, Options{})
			}
			got := send(t, s, w)
			if got.status != http.StatusOK || got.header.Get("Content-Type") != "application/json" {
				t.Fatalf("answer %d %s %q", got.status, got.header.Get("Content-Type"), got.body)
			}
			golden(t, name+".json", got.body)
		})
	}
	f("flags_v2_node", wire{path: "/flags/?v=2&config=true", body: flagsCall(t, "user-1"),
		header: map[string]string{"Content-Type": "application/json"}})
	f("flags_v2_override", wire{path: "/flags/?v=2", body: gz(t, flagsCall(t, "vip")),
		header: map[string]string{"Content-Type": "text/plain"}})
	f("decide_v3", wire{path: "/decide/?v=3", body: form(flagsCall(t, "user-1")),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	f("flags_none_set", wire{path: "/flags/?v=2", body: flagsCall(t, "user-1")})
}

func TestFlagsAnswerForTheAskingPerson(t *testing.T) {
	s := projectWithFlags(t)
	ask := func(distinctID string) flagsBody {
		got := send(t, s, wire{path: "/flags/?v=2&compression=base64", body: form(flagsCall(t, distinctID)),
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
		var out flagsBody
		if err := json.Unmarshal([]byte(got.body), &out); err != nil || got.status != 200 {
			t.Fatalf("answer %d %q: %v", got.status, got.body, err)
		}
		return out
	}
	user, vip := ask("user-1"), ask("vip")
	if user.FeatureFlags["dark-mode"] != false || vip.FeatureFlags["dark-mode"] != true {
		t.Fatalf("dark-mode: user %v vip %v", user.FeatureFlags["dark-mode"], vip.FeatureFlags["dark-mode"])
	}
	if *user.Flags["pricing"].Variant != "variant-b" || *vip.Flags["pricing"].Variant != "variant-c" {
		t.Fatal("pricing variants not per person")
	}
	asked := s.FlagRequests()
	if len(asked) != 2 || asked[0].DistinctID != "user-1" || asked[1].DistinctID != "vip" || asked[0].Version != "2" ||
		asked[0].Encoding != EncodingFormBase64 || asked[0].Token != token || asked[0].PersonProperties["$device_id"] != "dev-1" {
		t.Fatalf("flag requests %+v", asked)
	}
}

func TestFlagsRefuse(t *testing.T) {
	f := func(name string, w wire, wantStatus int, wantCode string) {
		t.Run(name, func(t *testing.T) {
			s := start(t, Options{})
			got := send(t, s, w)
			var body struct{ Code string }
			_ = json.Unmarshal([]byte(got.body), &body)
			if got.status != wantStatus || body.Code != wantCode {
				t.Fatalf("answer %d %q, want %d %s", got.status, got.body, wantStatus, wantCode)
			}
			if len(s.FlagRequests()) != 0 {
				t.Fatal("a refused call was recorded as asked")
			}
		})
	}
	f("wrong token", wire{path: "/flags/?v=2", body: []byte(`{"token":"phc_other","distinct_id":"a"}`)}, 401, "invalid_api_key")
	f("no token", wire{path: "/flags/?v=2", body: []byte(`{"distinct_id":"a"}`)}, 401, "invalid_api_key")
	f("no distinct id", wire{path: "/flags/?v=2", body: []byte(`{"token":"` + token + `"}`)}, 400, "invalid_request")
	f("not an object", wire{path: "/flags/?v=2", body: []byte(`[1]`)}, 400, "invalid_request")
	f("empty body", wire{path: "/decide/?v=4"}, 400, "invalid_request")
	f("get", wire{method: http.MethodGet, path: "/flags/?v=2"}, 405, "")
}

func TestSetFlagRefusesOtherValues(t *testing.T) {
	s := start(t, Options{})
	defer func() {
		if recover() == nil {
			t.Fatal("SetFlag took a number")
		}
	}()
	s.SetFlag("x", 3)
}
