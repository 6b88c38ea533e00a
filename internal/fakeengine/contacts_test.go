package fakeengine

import (
	"strings"
	"testing"
	"time"
)

// TestBodyRefusals: the content-type rule, malformed JSON, the identity
// requirement and the zod envelopes, golden (docs/contracts/hogsend-api.md §1).
func TestBodyRefusals(t *testing.T) {
	f := start(t, Options{})
	cases := []struct {
		name, method, path, contentType, body string
		status                                int
	}{
		{"contact text body", "PUT", "/v1/contacts", "text/plain", `{"email":"a@b.co"}`, 400},
		{"contact no content type", "PUT", "/v1/contacts", "-", `{"email":"a@b.co"}`, 400},
		{"contact malformed", "PUT", "/v1/contacts", "application/json", `{"email":`, 400},
		{"contact empty body", "PUT", "/v1/contacts", "application/json", ``, 400},
		{"contact array", "PUT", "/v1/contacts", "application/json", `[]`, 400},
		{"contact anonymous only", "PUT", "/v1/contacts", "application/json", `{"anonymousId":"a1"}`, 400},
		{"contact blank userId", "PUT", "/v1/contacts", "application/json", `{"userId":"   "}`, 400},
		{"contact bad fields", "PUT", "/v1/contacts", "application/json; charset=utf-8",
			`{"email":" a@b.co","userId":"","anonymousId":7,"properties":[],"lists":{"x":"yes"}}`, 400},
		{"contact long anonymousId", "PUT", "/v1/contacts", "application/json", `{"userId":"u","anonymousId":"` + strings.Repeat("a", 201) + `"}`, 400},
		{"event no name", "POST", "/v1/events", "application/json", `{"userId":"u"}`, 400},
		{"event bad fields", "POST", "/v1/events", "application/json",
			`{"name":"","value":"3","currency":"us","groups":{"":"x","team":""},"timestamp":"2026-01-01T00:00:00+02:00","eventProperties":null}`, 400},
		{"event date only", "POST", "/v1/events", "application/json", `{"name":"n","userId":"u","timestamp":"2026-01-01"}`, 400},
		{"event no identity", "POST", "/v1/events", "application/json", `{"name":"n"}`, 400},
		{"event text body", "POST", "/v1/events", "text/plain", `{"name":"n","userId":"u"}`, 400},
		{"find no query", "GET", "/v1/contacts/find", "", ``, 400},
		{"delete no identity", "DELETE", "/v1/contacts", "application/json", `{}`, 400},
		{"delete unknown", "DELETE", "/v1/contacts", "application/json", `{"email":"nobody@b.co"}`, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := c.contentType
			if ct == "" || ct == "-" {
				ct = "x-none"
			}
			r := f.send(c.method, c.path, f.ingest, c.body, "Content-Type", ct)
			if r.status != c.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, c.status)
			}
			golden(t, "refusal_"+strings.ReplaceAll(c.name, " ", "_"), r.body)
		})
	}
}

// TestResolver: create, fill-in-link, alias instead of overwrite, merge
// with the survivor rule, find through a merged-away key, delete and
// re-create (docs/contracts/hogsend-api.md §3, §4).
func TestResolver(t *testing.T) {
	f := start(t, Options{})
	put := func(body string) map[string]any {
		t.Helper()
		r := f.send("PUT", "/v1/contacts", f.ingest, body)
		if r.status != 200 {
			t.Fatalf("PUT %s: %d %s", body, r.status, r.body)
		}
		return r.json(t)
	}
	a := put(`{"email":"Ada@Example.com","properties":{"plan":"free","n":1}}`)
	if a["created"] != true || a["linked"] != false {
		t.Fatalf("create: %v", a)
	}
	golden(t, "upsert_created", `{"id":"`+a["id"].(string)+`","created":true,"linked":false}`)
	f.tick(time.Second)
	b := put(`{"userId":"u_1","properties":{"plan":"pro"}}`)
	f.tick(time.Second)
	if again := put(`{"email":"ada@example.com"}`); again["id"] != a["id"] || again["linked"] != true || again["created"] != false {
		t.Fatalf("re-upsert: %v", again)
	}
	// Both keys in one request join the two: the one with a userId survives.
	m := put(`{"email":"ada@example.com","userId":"u_1","properties":{"n":null,"x":true}}`)
	if m["id"] != b["id"] || m["linked"] != true {
		t.Fatalf("merge answered %v, want survivor %v", m, b["id"])
	}
	c, found := f.Contact("ada@example.com")
	if !found || c.ID != b["id"] || c.Email != "ada@example.com" || c.ExternalID != "u_1" {
		t.Fatalf("survivor: %+v", c)
	}
	if len(c.Properties) != 2 || c.Properties["plan"] != "pro" || c.Properties["x"] != true {
		t.Fatalf("merged properties: %v", c.Properties)
	}
	if !c.FirstSeenAt.Equal(epoch) {
		t.Fatalf("first seen %v, want the loser's %v", c.FirstSeenAt, epoch)
	}
	all := f.Contacts()
	if len(all) != 2 || !all[0].Deleted || all[0].MergedInto != c.ID {
		t.Fatalf("loser: %+v", all[0])
	}
	// A loser with neither userId nor anonymousId keeps its id as an alias.
	if byOldID, _ := f.Contact(a["id"].(string)); byOldID.ID != c.ID {
		t.Fatalf("the loser's id finds %q, want the survivor", byOldID.ID)
	}
	// A different email never overwrites the primary one: it becomes an alias.
	put(`{"userId":"u_1","email":"other@example.com"}`)
	if c, _ := f.Contact("u_1"); c.Email != "ada@example.com" {
		t.Fatalf("primary email changed to %q", c.Email)
	}
	r := f.send("GET", "/v1/contacts/find?email=OTHER@example.com", f.ingest, "")
	golden(t, "find_through_alias", r.body)
	if r := f.send("DELETE", "/v1/contacts", f.ingest, `{"email":"other@example.com"}`); r.status != 200 || r.body != `{"deleted":true}` {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := f.send("GET", "/v1/contacts/find?userId=u_1&email=ada@example.com", f.ingest, ""); r.body != `{"contacts":[]}` {
		t.Fatalf("find after delete: %s", r.body)
	}
	if again := put(`{"userId":"u_1"}`); again["created"] != true || again["id"] == b["id"] {
		t.Fatalf("re-create after delete: %v", again)
	}
}

// TestListsOnUpsert: list flags need an email, written after the upsert.
func TestListsOnUpsert(t *testing.T) {
	f := start(t, Options{})
	r := f.send("PUT", "/v1/contacts", f.ingest, `{"userId":"u_nolists","lists":{"newsletter":true}}`)
	if r.status != 400 || r.body != `{"error":"`+msgNoEmailForLists+`"}` {
		t.Fatalf("no email: %d %s", r.status, r.body)
	}
	if _, found := f.Contact("u_nolists"); !found {
		t.Fatal("the upsert is committed before the lists fail")
	}
	f.send("PUT", "/v1/contacts", f.ingest, `{"email":"l@b.co","lists":{"newsletter":false}}`)
	if got := f.Subscribed("l@b.co"); len(got) != 1 || got["newsletter"] != false {
		t.Fatalf("flags: %v", got)
	}
}
