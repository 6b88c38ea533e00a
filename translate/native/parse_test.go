package native

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestValidEmail(t *testing.T) {
	f := func(s string, want bool) {
		t.Helper()
		if got := ValidEmail(s); got != want {
			t.Fatalf("ValidEmail(%q) = %v, want %v", s, got, want)
		}
	}
	f("ada@example.com", true)
	f("Ada.Lovelace+tag@Example.CO.uk", true)
	f("o'neil@example.com", true)
	f("a_b-c@sub-domain.example.io", true)
	f(" ada@example.com", false)
	f("ada@example.com ", false)
	f(".ada@example.com", false)
	f("ada.@example.com", false)
	f("a..b@example.com", false)
	f("ada@example", false)
	f("ada@example.c", false)
	f("ada@-example.com", false)
	f("ada@exa_mple.com", false)
	f("ada@example.c0m", false)
	f("ada@.com", false)
	f("ada@a.b.-c.io", false)
	f("ada@a.b-.io", true)
	f("@example.com", false)
	f("ada@", false)
	f("ada", false)
	f("a@b@c.com", false)
}

func TestParseISODatetime(t *testing.T) {
	f := func(s string, wantMs int64, ok bool) {
		t.Helper()
		got, gotOK := ParseISODatetime(s)
		if gotOK != ok || (ok && got != wantMs) {
			t.Fatalf("ParseISODatetime(%q) = %d, %v; want %d, %v", s, got, gotOK, wantMs, ok)
		}
	}
	f("2026-03-04T05:06:07Z", 1772600767000, true)
	f("2026-03-04T05:06:07.891Z", 1772600767891, true)
	f("2026-03-04T05:06:07.891234567891Z", 1772600767891, true)
	f("2026-03-04T05:06Z", 1772600760000, true)
	f("2024-02-29T00:00:00Z", 1709164800000, true)
	f("2026-02-29T00:00:00Z", 0, false)
	f("2026-03-04T05:06:07+02:00", 0, false)
	f("2026-03-04T05:06:07", 0, false)
	f("2026-03-04", 0, false)
	f("2026-03-04T25:06:07Z", 0, false)
	f("2026-03-04T05:06:07.Z", 0, false)
	f("2026-03-04T05:06:7Z", 0, false)
}

func TestParseEvent(t *testing.T) {
	ev, err := ParseEvent([]byte(`{"name":"paid","email":"Ada@Example.com","userId":" u1 ","anonymousId":"an",`+
		`"eventProperties":{"a":[1,2]},"contactProperties":{"p":1,"q":null},"value":-3.5,"currency":"eur",`+
		`"groups":{"org":"acme"},"idempotencyKey":"body","timestamp":"2026-01-01T00:00:00Z","extra":{"ignored":true}}`), true, "header")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Name != "paid" || ev.Email != "ada@example.com" || ev.UserID != "u1" || ev.AnonymousID != "an" ||
		string(ev.EventProperties) != `{"a":[1,2]}` || !ev.HasValue || ev.Value != -3.5 || ev.Currency != "EUR" ||
		string(ev.Groups) != `{"org":"acme"}` || ev.IdempotencyKey != "header" || ev.Timestamp != 1767225600000 {
		t.Fatalf("event = %+v", ev)
	}
	if len(ev.ContactProperties) != 2 || ev.ContactProperties[0].Name != "p" || string(ev.ContactProperties[0].Value) != "1" ||
		ev.ContactProperties[1].Name != "q" || ev.ContactProperties[1].Value != nil {
		t.Fatalf("contact properties = %+v", ev.ContactProperties)
	}
	ev, err = ParseEvent([]byte(`{"name":"x","userId":"u","idempotencyKey":"body"}`), true, "")
	if err != nil || ev.IdempotencyKey != "body" || string(ev.EventProperties) != "{}" || string(ev.Groups) != "{}" {
		t.Fatalf("defaults = %+v, %v", ev, err)
	}
	// Duplicate keys: the last one wins, as JSON.parse has it.
	ev, err = ParseEvent([]byte(`{"name":"first","name":"second","userId":"u"}`), true, "")
	if err != nil || ev.Name != "second" {
		t.Fatalf("duplicate key = %q, %v", ev.Name, err)
	}
}

func TestParseErrors(t *testing.T) {
	f := func(body string, wantErr error, wantCode string) {
		t.Helper()
		_, err := ParseEvent([]byte(body), true, "")
		if wantErr != nil {
			if !errors.Is(err, wantErr) {
				t.Fatalf("ParseEvent(%s) = %v, want %v", body, err, wantErr)
			}
			return
		}
		var verr *ValidationError
		if !errors.As(err, &verr) || verr.Issues[0].Code != wantCode {
			t.Fatalf("ParseEvent(%s) = %v, want issue %s", body, err, wantCode)
		}
	}
	f(`{"name":`, ErrMalformedJSON, "")
	f(``, ErrMalformedJSON, "")
	f(`{"name":"x"}`, ErrIdentityRequired, "")
	f(`{"name":"x","userId":"  "}`, ErrIdentityRequired, "")
	f(`"str"`, nil, "invalid_type")
	f(`{"userId":"u"}`, nil, "invalid_type")
	f(`{"name":"","userId":"u"}`, nil, "too_small")
	f(`{"name":"x","userId":"u","anonymousId":"`+strings.Repeat("é", 201)+`"}`, nil, "too_big")
	f(`{"name":"x","userId":"u","currency":"EURO","value":1}`, nil, "invalid_format")
	f(`{"name":"x","userId":"u","value":true}`, nil, "invalid_type")
	f(`{"name":"x","userId":"u","value":1e12}`, nil, "too_big")
	f(`{"name":"x","userId":"u","value":-1e15}`, nil, "too_big")
	f(`{"name":"x","userId":"u","groups":{"":"v"}}`, nil, "invalid_key")
	f(`{"name":"x","userId":"u","groups":{"k":1}}`, nil, "invalid_type")
	f(`{"name":"x","userId":"u","lists":[]}`, nil, "invalid_type")
	if _, err := ParseEvent([]byte(`{"name":"x","userId":"u"}`), false, ""); !errors.Is(err, ErrIdentityRequired) {
		t.Fatalf("non-JSON content type = %v", err)
	}
}

func TestZodEnvelope(t *testing.T) {
	_, err := ParseContactUpsert([]byte(`{"email":"bad","userId":""}`), true)
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("err = %v", err)
	}
	env := verr.AppendZodEnvelope(nil)
	var outer struct {
		Success bool
		Error   struct{ Name, Message string }
	}
	if err := json.Unmarshal(env, &outer); err != nil || outer.Success || outer.Error.Name != "ZodError" {
		t.Fatalf("envelope = %s (%v)", env, err)
	}
	var issues []map[string]any
	if err := json.Unmarshal([]byte(outer.Error.Message), &issues); err != nil || len(issues) != 2 {
		t.Fatalf("issues = %s (%v)", outer.Error.Message, err)
	}
	if issues[0]["code"] != "invalid_format" || issues[0]["format"] != "email" || issues[0]["origin"] != "string" {
		t.Fatalf("email issue = %v", issues[0])
	}
	if issues[1]["code"] != "too_small" || issues[1]["minimum"] != float64(1) || issues[1]["inclusive"] != true ||
		issues[1]["message"] != "Too small: expected string to have >=1 characters" {
		t.Fatalf("userId issue = %v", issues[1])
	}
}

func TestContactKeys(t *testing.T) {
	k, err := ParseContactKeys([]byte(`{"email":" A@B.co ","userId":" u "}`), true)
	if err != nil || k.Email != "a@b.co" || k.UserID != "u" {
		t.Fatalf("keys = %+v, %v", k, err)
	}
	if _, err := ParseContactKeys([]byte(`{}`), true); !errors.Is(err, ErrIdentityRequired) {
		t.Fatalf("empty = %v", err)
	}
	if _, err := FindKeys("", " "); !errors.Is(err, ErrIdentityRequired) {
		t.Fatalf("find empty = %v", err)
	}
}

// Decoders never panic and either fail cleanly or return values that re-encode
// as valid JSON.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"name":"paid","email":"a@b.co","value":1,"currency":"usd","groups":{"a":"b"},"timestamp":"2026-01-01T00:00:00Z"}`), "k")
	f.Add([]byte(`{"name":"x","userId":"u","eventProperties":{"deep":[[[[{}]]]]}}`), "")
	f.Add([]byte(`[1,2`), "")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		ev, err := ParseEvent(body, true, key)
		if err != nil {
			var verr *ValidationError
			if errors.As(err, &verr) && !json.Valid(verr.AppendZodEnvelope(nil)) {
				t.Fatalf("invalid zod envelope for %q", body)
			}
			return
		}
		if ev.Name == "" || (ev.Email == "" && ev.UserID == "") {
			t.Fatalf("accepted without name or identity: %q", body)
		}
		if !json.Valid(ev.EventProperties) || !json.Valid(ev.Groups) {
			t.Fatalf("stored JSON invalid for %q", body)
		}
	})
}

func FuzzParseContactUpsert(f *testing.F) {
	f.Add([]byte(`{"email":"a@b.co","userId":"u","properties":{"a":null,"b":[1]},"lists":{"n":true}}`))
	f.Add([]byte(`{"email":"bad"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := ParseContactUpsert(body, true)
		if err != nil {
			return
		}
		if u.Email == "" && u.UserID == "" {
			t.Fatalf("accepted without identity: %q", body)
		}
		for _, p := range u.Properties {
			if p.Value != nil && !json.Valid(p.Value) {
				t.Fatalf("property %q value invalid JSON", p.Name)
			}
		}
	})
}

func TestInvalidUTF8IsReplaced(t *testing.T) {
	ev, err := ParseEvent([]byte("{\"name\":\"n\\u00e9\",\"userId\":\"u\",\"eventProperties\":{\"s\":\"a\xff\xfeb\"}}"), true, "")
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.EventProperties) != "{\"s\":\"a\uFFFD\uFFFDb\"}" || ev.Name != "né" {
		t.Fatalf("event = %q %q", ev.Name, ev.EventProperties)
	}
}

func TestParsePublishableAllowsAnonymous(t *testing.T) {
	if _, err := ParseEvent([]byte(`{"name":"x","anonymousId":"a"}`), true, ""); !errors.Is(err, ErrIdentityRequired) {
		t.Fatalf("secret key anonymous event = %v", err)
	}
	e, err := ParsePublishableEvent([]byte(`{"name":"x","anonymousId":" a ","userToken":"t"}`), true, "")
	if err != nil || e.AnonymousID != "a" || e.UserToken != "t" {
		t.Fatalf("publishable event = %+v, %v", e, err)
	}
	if _, err := ParsePublishableContactUpsert([]byte(`{"properties":{}}`), true); !errors.Is(err, ErrIdentityRequired) {
		t.Fatalf("publishable upsert with no key = %v", err)
	}
}
