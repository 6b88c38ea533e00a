package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// runNativeSuite checks every rule of the native data API over HTTP, against
// whichever storage the harness runs on.
func runNativeSuite(t *testing.T, h *harness) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *harness)
	}{
		{"auth", testAuth}, {"validation", testValidation}, {"contacts", testContacts}, {"merge", testMerge},
		{"delete", testDelete}, {"lists", testLists}, {"events", testEvents}, {"idempotency", testIdempotency},
		{"publishable", testPublishable}, {"health", testHealth},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent := h.t
			h.t = t // harness failures belong to the subtest
			defer func() { h.t = parent }()
			c.fn(t, h)
		})
	}
}

func wantError(t *testing.T, r response, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if got := r.json(t)["error"]; got != msg {
		t.Fatalf("error = %q, want %q", got, msg)
	}
}

// wantZod checks upstream's zod envelope and returns the first issue.
func wantZod(t *testing.T, r response, code string, path ...string) map[string]any {
	t.Helper()
	if r.status != 400 {
		t.Fatalf("status = %d, want 400; body %s", r.status, r.body)
	}
	m := r.json(t)
	if m["success"] != false {
		t.Fatalf("success = %v in %s", m["success"], r.body)
	}
	e := m["error"].(map[string]any)
	if e["name"] != "ZodError" {
		t.Fatalf("error.name = %v", e["name"])
	}
	var issues []map[string]any
	if err := json.Unmarshal([]byte(e["message"].(string)), &issues); err != nil {
		t.Fatalf("error.message is not a JSON issue array: %q", e["message"])
	}
	is := issues[0]
	if is["code"] != code {
		t.Fatalf("issue code = %v, want %s (%s)", is["code"], code, r.body)
	}
	gotPath := fmt.Sprint(is["path"])
	if want := fmt.Sprint(toAny(path)); gotPath != want {
		t.Fatalf("issue path = %s, want %s", gotPath, want)
	}
	return is
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func testAuth(t *testing.T, h *harness) {
	body := `{"email":"auth@example.com"}`
	wantError(t, h.do("PUT", "/v1/contacts", "", "application/json", body), 401, "Unauthorized")
	// The Bearer prefix is case-sensitive.
	r := h.do("PUT", "/v1/contacts", "", "application/json", body, "Authorization", "bearer "+h.key)
	wantError(t, r, 401, "Unauthorized")
	r = h.do("PUT", "/v1/contacts", "", "application/json", body, "Authorization", "Basic "+h.key)
	wantError(t, r, 401, "Unauthorized")
	wantError(t, h.do("PUT", "/v1/contacts", "hsk_unknown", "application/json", body), 401, "Unauthorized")
	expired := h.mintKey("expired", []string{"ingest"}, time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z"))
	wantError(t, h.do("PUT", "/v1/contacts", expired, "application/json", body), 401, "API key expired")
	for _, scope := range []string{"read", "journey-admin"} {
		k := h.mintKey("k-"+scope, []string{scope}, "")
		for _, rt := range [][2]string{{"PUT", "/v1/contacts"}, {"POST", "/v1/events"}, {"DELETE", "/v1/contacts"}, {"GET", "/v1/contacts/find?email=a@b.co"}} {
			wantError(t, h.do(rt[0], rt[1], k, "application/json", `{"name":"x","email":"a@b.co"}`), 403, "Forbidden: insufficient scope")
		}
	}
	// full-admin includes ingest, as does the admin key.
	fa := h.mintKey("fa", []string{"full-admin"}, "")
	if r := h.do("PUT", "/v1/contacts", fa, "application/json", body); r.status != 200 {
		t.Fatalf("full-admin upsert: %d %s", r.status, r.body)
	}
	if r := h.do("PUT", "/v1/contacts", h.admin, "application/json", body); r.status != 200 {
		t.Fatalf("admin key upsert: %d %s", r.status, r.body)
	}
	// Minting keys needs full-admin.
	wantError(t, h.do("POST", "/v1/admin/api-keys", h.key, "application/json", `{"name":"x","scopes":["ingest"]}`), 403, "Forbidden: insufficient scope")
	// Keys are stored hashed: the table holds a 64-hex hash, never the key.
	if n := h.count(fmt.Sprintf("SELECT count() FROM api_keys WHERE key_hash = '%s' OR key_hash = '%s'", h.key, strings.TrimPrefix(h.key, "hsk_"))); n != 0 {
		t.Fatalf("a raw key is stored")
	}
	if n := h.count("SELECT count() FROM api_keys FINAL WHERE length(key_hash) = 64 AND key_prefix = '" + h.key[:8] + "'"); n != 1 {
		t.Fatalf("hashed key rows for prefix %s = %d, want 1", h.key[:8], n)
	}
}

func testValidation(t *testing.T, h *harness) {
	wantError(t, h.json("PUT", "/v1/contacts", `{"email":`), 400, "Malformed JSON in request body")
	wantError(t, h.json("POST", "/v1/events", `{name:1}`), 400, "Malformed JSON in request body")
	// Without a JSON content type upstream sees an empty body.
	wantError(t, h.do("PUT", "/v1/contacts", h.key, "text/plain", `{"email":"a@b.co"}`), 400, "email or userId is required")
	wantError(t, h.do("POST", "/v1/events", h.key, "", `{"name":"x","email":"a@b.co"}`), 400, "email or userId is required")
	if r := h.do("PUT", "/v1/contacts", h.key, "application/json; charset=utf-8", `{"email":"charset@example.com"}`); r.status != 200 {
		t.Fatalf("charset parameter refused: %d %s", r.status, r.body)
	}
	wantError(t, h.json("PUT", "/v1/contacts", `{}`), 400, "email or userId is required")
	wantError(t, h.json("PUT", "/v1/contacts", `{"anonymousId":"anon-1"}`), 400, "email or userId is required")
	wantError(t, h.json("PUT", "/v1/contacts", `{"userId":"   "}`), 400, "email or userId is required")
	wantError(t, h.json("POST", "/v1/events", `{"name":"x","anonymousId":"a"}`), 400, "email or userId is required")

	is := wantZod(t, h.json("PUT", "/v1/contacts", `{"email":" ada@example.com"}`), "invalid_format", "email")
	if is["format"] != "email" || is["message"] != "Invalid email address" {
		t.Fatalf("email issue = %v", is)
	}
	wantZod(t, h.json("PUT", "/v1/contacts", `{"email":"not-an-email"}`), "invalid_format", "email")
	wantZod(t, h.json("PUT", "/v1/contacts", `{"email":42}`), "invalid_type", "email")
	wantZod(t, h.json("PUT", "/v1/contacts", `{"userId":""}`), "too_small", "userId")
	wantZod(t, h.json("PUT", "/v1/contacts", `{"userId":"u","anonymousId":"`+strings.Repeat("a", 201)+`"}`), "too_big", "anonymousId")
	wantZod(t, h.json("PUT", "/v1/contacts", `{"userId":"u","properties":"x"}`), "invalid_type", "properties")
	wantZod(t, h.json("PUT", "/v1/contacts", `{"userId":"u","lists":{"news":"yes"}}`), "invalid_type", "lists", "news")
	wantZod(t, h.json("PUT", "/v1/contacts", `[]`), "invalid_type")

	is = wantZod(t, h.json("POST", "/v1/events", `{"email":"a@b.co"}`), "invalid_type", "name")
	if is["message"] != "Invalid input: expected string, received undefined" {
		t.Fatalf("missing name message = %v", is["message"])
	}
	wantZod(t, h.json("POST", "/v1/events", `{"name":"","email":"a@b.co"}`), "too_small", "name")
	wantZod(t, h.json("POST", "/v1/events", `{"name":"x","email":"a@b.co","value":"12"}`), "invalid_type", "value")
	wantZod(t, h.json("POST", "/v1/events", `{"name":"x","email":"a@b.co","value":1,"currency":"US"}`), "invalid_format", "currency")
	wantZod(t, h.json("POST", "/v1/events", `{"name":"x","email":"a@b.co","timestamp":"2026-01-02T03:04:05+02:00"}`), "invalid_format", "timestamp")
	wantZod(t, h.json("POST", "/v1/events", `{"name":"x","email":"a@b.co","timestamp":"2026-01-02"}`), "invalid_format", "timestamp")
	wantZod(t, h.json("POST", "/v1/events", `{"name":"x","email":"a@b.co","groups":{"company":""}}`), "too_small", "groups", "company")
	wantZod(t, h.json("POST", "/v1/events", `{"name":"x","email":"a@b.co","eventProperties":[1]}`), "invalid_type", "eventProperties")

	// No such route: POST /v1/contacts does not exist upstream either.
	wantError(t, h.json("POST", "/v1/contacts", `{"email":"a@b.co"}`), 404, "Not Found")
	wantError(t, h.json("GET", "/v1/nope", ``), 404, "Not Found")
	// Bad input never stored anything.
	if n := h.count("SELECT count() FROM contacts WHERE email = 'a@b.co'"); n != 0 {
		t.Fatalf("rejected events were stored: %d", n)
	}
}

func upsert(t *testing.T, h *harness, body string) map[string]any {
	t.Helper()
	r := h.json("PUT", "/v1/contacts", body)
	if r.status != 200 {
		t.Fatalf("upsert %s: %d %s", body, r.status, r.body)
	}
	return r.json(t)
}

func find(t *testing.T, h *harness, query string) []map[string]any {
	t.Helper()
	r := h.json("GET", "/v1/contacts/find?"+query, "")
	if r.status != 200 {
		t.Fatalf("find %s: %d %s", query, r.status, r.body)
	}
	var out struct {
		Contacts []map[string]any `json:"contacts"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Contacts
}

func testContacts(t *testing.T, h *harness) {
	first := upsert(t, h, `{"email":"Grace@Example.COM","properties":{"a":1,"b":{"x":1},"gone":true}}`)
	if first["created"] != true || first["linked"] != false {
		t.Fatalf("first upsert = %v", first)
	}
	id := first["id"].(string)
	again := upsert(t, h, `{"email":"grace@example.com","properties":{"b":{"y":2},"gone":null,"c":"z"},"unknownField":1}`)
	if again["id"] != id || again["created"] != false || again["linked"] != true {
		t.Fatalf("second upsert = %v, want same id linked", again)
	}
	// A plain re-upsert with nothing new is still linked:true (upstream code).
	if r := upsert(t, h, `{"email":"grace@example.com"}`); r["linked"] != true || r["created"] != false {
		t.Fatalf("re-upsert = %v", r)
	}
	cs := find(t, h, "email=GRACE@example.com")
	if len(cs) != 1 || cs[0]["id"] != id {
		t.Fatalf("find = %v", cs)
	}
	c := cs[0]
	if c["email"] != "grace@example.com" || c["externalId"] != nil {
		t.Fatalf("contact keys = %v", c)
	}
	props, _ := json.Marshal(c["properties"])
	if string(props) != `{"a":1,"b":{"y":2},"c":"z"}` {
		t.Fatalf("properties = %s", props)
	}
	for _, k := range []string{"firstSeenAt", "lastSeenAt", "createdAt", "updatedAt"} {
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", c[k].(string)); err != nil {
			t.Fatalf("%s = %v: %v", k, c[k], err)
		}
	}
	if _, ok := c["anonymousId"]; ok {
		t.Fatalf("find must not expose anonymousId")
	}
	// Fill-in-link: a userId fills the empty column.
	r := upsert(t, h, `{"email":"grace@example.com","userId":" u_grace "}`)
	if r["id"] != id || r["linked"] != true {
		t.Fatalf("fill-in = %v", r)
	}
	if cs := find(t, h, "userId=u_grace"); len(cs) != 1 || cs[0]["id"] != id || cs[0]["externalId"] != "u_grace" {
		t.Fatalf("find by userId = %v", cs)
	}
	// A different email never replaces the primary one; it becomes an alias.
	r = upsert(t, h, `{"userId":"u_grace","email":"grace.h@example.com"}`)
	if r["id"] != id {
		t.Fatalf("second email made a new contact: %v", r)
	}
	if cs := find(t, h, "email=grace.h@example.com"); len(cs) != 1 || cs[0]["id"] != id || cs[0]["email"] != "grace@example.com" {
		t.Fatalf("find by alias email = %v", cs)
	}
	// Both keys, OR-ed: still one contact.
	if cs := find(t, h, "email=grace@example.com&userId=u_grace"); len(cs) != 1 {
		t.Fatalf("find both = %v", cs)
	}
	if cs := find(t, h, "email=nobody@example.com"); len(cs) != 0 {
		t.Fatalf("find miss = %v", cs)
	}
	wantError(t, h.json("GET", "/v1/contacts/find", ""), 400, "email or userId is required")
	// ClickHouse has the latest version of the contact.
	rows := h.rows("SELECT email, external_id, properties, is_deleted FROM contacts FINAL WHERE id = '" + id + "'")
	if len(rows) != 1 || rows[0][0] != "grace@example.com" || rows[0][1] != "u_grace" || rows[0][3] != "0" {
		t.Fatalf("contacts row = %v", rows)
	}
	var stored map[string]any
	if err := json.Unmarshal([]byte(rows[0][2]), &stored); err != nil || len(stored) != 3 || stored["c"] != "z" {
		t.Fatalf("stored properties = %s", rows[0][2])
	}
	if n := h.count("SELECT count() FROM contact_aliases FINAL WHERE contact_id = '" + id + "' AND is_deleted = 0"); n != 3 {
		t.Fatalf("aliases for contact = %d, want 3 (two emails, one userId)", n)
	}
}

func testMerge(t *testing.T, h *harness) {
	a := upsert(t, h, `{"email":"merge@example.com","properties":{"from":"a","onlyA":1}}`)["id"].(string)
	time.Sleep(5 * time.Millisecond)
	b := upsert(t, h, `{"userId":"u_merge","properties":{"from":"b","onlyB":2}}`)["id"].(string)
	if a == b {
		t.Fatal("setup: one contact")
	}
	r := upsert(t, h, `{"email":"merge@example.com","userId":"u_merge","properties":{"patch":3}}`)
	// Survivor: the contact with an external id beats the earlier email-only one.
	if r["id"] != b || r["created"] != false || r["linked"] != true {
		t.Fatalf("merge = %v, want survivor %s", r, b)
	}
	cs := find(t, h, "email=merge@example.com&userId=u_merge")
	if len(cs) != 1 || cs[0]["id"] != b || cs[0]["email"] != "merge@example.com" || cs[0]["externalId"] != "u_merge" {
		t.Fatalf("after merge find = %v", cs)
	}
	props, _ := json.Marshal(cs[0]["properties"])
	if string(props) != `{"from":"b","onlyA":1,"onlyB":2,"patch":3}` {
		t.Fatalf("merged properties = %s", props)
	}
	// first_seen_at is the earlier of the two.
	if fa, fb := cs[0]["firstSeenAt"].(string), find(t, h, "userId=u_merge")[0]["firstSeenAt"].(string); fa != fb {
		t.Fatalf("inconsistent first seen")
	}
	rows := h.rows("SELECT id, is_deleted FROM contacts FINAL WHERE id IN ('" + a + "','" + b + "') ORDER BY is_deleted")
	if len(rows) != 2 || rows[0][0] != b || rows[0][1] != "0" || rows[1][0] != a || rows[1][1] != "1" {
		t.Fatalf("contacts after merge = %v", rows)
	}
	// The loser's key now resolves to the survivor, recorded as a merge alias.
	rows = h.rows("SELECT contact_id, reason, from_contact_id FROM contact_aliases FINAL WHERE alias_kind = 'email' AND alias_value = 'merge@example.com'")
	if len(rows) != 1 || rows[0][0] != b || rows[0][1] != "merge" || rows[0][2] != a {
		t.Fatalf("merge alias = %v", rows)
	}
	// Events after the merge land on the survivor.
	ev := h.json("POST", "/v1/events", `{"name":"after.merge","email":"merge@example.com"}`)
	if ev.status != 202 || ev.json(t)["contactKey"] != "u_merge" {
		t.Fatalf("event after merge: %d %s", ev.status, ev.body)
	}
}

func testDelete(t *testing.T, h *harness) {
	id := upsert(t, h, `{"email":"del@example.com","userId":"u_del"}`)["id"].(string)
	wantError(t, h.json("DELETE", "/v1/contacts", `{}`), 400, "email or userId is required")
	r := h.json("DELETE", "/v1/contacts", `{"email":"DEL@example.com"}`)
	if r.status != 200 || string(r.body) != `{"deleted":true}` {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if cs := find(t, h, "email=del@example.com&userId=u_del"); len(cs) != 0 {
		t.Fatalf("deleted contact still found: %v", cs)
	}
	wantError(t, h.json("DELETE", "/v1/contacts", `{"userId":"u_del"}`), 404, "Contact not found")
	// A later write with the same key mints a fresh contact.
	again := upsert(t, h, `{"userId":"u_del"}`)
	if again["created"] != true || again["id"] == id {
		t.Fatalf("re-create after delete = %v (old %s)", again, id)
	}
	rows := h.rows("SELECT is_deleted FROM contacts FINAL WHERE id = '" + id + "'")
	if len(rows) != 1 || rows[0][0] != "1" {
		t.Fatalf("deleted contact row = %v", rows)
	}
}

func testLists(t *testing.T, h *harness) {
	// Without an email the upsert is kept, then the list write fails with 400.
	wantError(t, h.json("PUT", "/v1/contacts", `{"userId":"u_nolists","lists":{"news":true}}`), 400,
		"Contact has no email; cannot manage list membership")
	if cs := find(t, h, "userId=u_nolists"); len(cs) != 1 {
		t.Fatalf("contact of the failed list write = %v", cs)
	}
	r := upsert(t, h, `{"email":"lists@example.com","lists":{"news":true,"promo":false}}`)
	id := r["id"].(string)
	rows := h.rows("SELECT list_id, subscribed FROM list_memberships FINAL WHERE contact_id = '" + id + "' ORDER BY list_id")
	if len(rows) != 2 || rows[0][0] != "news" || rows[0][1] != "1" || rows[1][0] != "promo" || rows[1][1] != "0" {
		t.Fatalf("list rows = %v", rows)
	}
	// On events a list failure does not fail the request.
	ev := h.json("POST", "/v1/events", `{"name":"x","userId":"u_nolists","lists":{"news":true}}`)
	if ev.status != 202 || ev.json(t)["listsError"] != "Contact has no email; cannot manage list membership" {
		t.Fatalf("event lists error: %d %s", ev.status, ev.body)
	}
}

func testEvents(t *testing.T, h *harness) {
	body := `{"name":"order.paid","email":"Buyer@Example.com","eventProperties":{"order":42,"items":["a","b"]},` +
		`"contactProperties":{"tier":"gold"},"value":49.5,"currency":"eur","groups":{"company":"acme"},` +
		`"timestamp":"2026-03-04T05:06:07.891Z","source":"forged"}`
	r := h.json("POST", "/v1/events", body)
	if r.status != 202 {
		t.Fatalf("event: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["stored"] != true || fmt.Sprint(m["exits"]) != "[]" {
		t.Fatalf("event answer = %s", r.body)
	}
	cs := find(t, h, "email=buyer@example.com")
	if len(cs) != 1 {
		t.Fatalf("event did not create its contact: %v", cs)
	}
	// An email-only contact's canonical key is its id.
	if m["contactKey"] != cs[0]["id"] {
		t.Fatalf("contactKey = %v, want contact id %v", m["contactKey"], cs[0]["id"])
	}
	if cs[0]["properties"].(map[string]any)["tier"] != "gold" {
		t.Fatalf("contactProperties not merged into the contact: %v", cs[0]["properties"])
	}
	rows := h.rows("SELECT event, user_id, contact_id, properties, toString(toFloat64(value)), currency, groups, source, " +
		"toString(occurred_at) FROM user_events WHERE event = 'order.paid'")
	if len(rows) != 1 {
		t.Fatalf("user_events rows = %v", rows)
	}
	row := rows[0]
	if row[0] != "order.paid" || row[1] != cs[0]["id"] || row[2] != cs[0]["id"] {
		t.Fatalf("event keys = %v", row)
	}
	var props map[string]any
	if err := json.Unmarshal([]byte(row[3]), &props); err != nil || props["order"] != float64(42) || props["tier"] != nil {
		t.Fatalf("event properties = %s (contactProperties must not be on the event)", row[3])
	}
	if row[4] != "49.5" || row[5] != "EUR" || row[6] != `{"company":"acme"}` || row[7] != "api" {
		t.Fatalf("value/currency/groups/source = %v", row[4:8])
	}
	if !strings.HasPrefix(row[8], "2026-03-04 05:06:07") {
		t.Fatalf("occurred_at = %s, want the client timestamp", row[8])
	}
	// With a userId the canonical key is the userId; currency without value is dropped.
	r = h.json("POST", "/v1/events", `{"name":"signup","userId":"u_ev","currency":"usd"}`)
	if r.status != 202 || r.json(t)["contactKey"] != "u_ev" {
		t.Fatalf("userId event: %d %s", r.status, r.body)
	}
	rows = h.rows("SELECT user_id, currency, value IS NULL FROM user_events WHERE event = 'signup'")
	if len(rows) != 1 || rows[0][0] != "u_ev" || rows[0][1] != "" || rows[0][2] != "1" {
		t.Fatalf("signup row = %v", rows)
	}
}

func testIdempotency(t *testing.T, h *harness) {
	send := func(body string, headers ...string) map[string]any {
		t.Helper()
		r := h.json("POST", "/v1/events", body, headers...)
		if r.status != 202 {
			t.Fatalf("event: %d %s", r.status, r.body)
		}
		return r.json(t)
	}
	first := send(`{"name":"idem.test","userId":"u_idem","idempotencyKey":"body-key"}`, "Idempotency-Key", "hdr-key")
	if first["stored"] != true {
		t.Fatalf("first = %v", first)
	}
	// The header won: the body key is still free, the header key is taken.
	if r := send(`{"name":"idem.test","userId":"u_idem","idempotencyKey":"hdr-key"}`); r["stored"] != false || fmt.Sprint(r["exits"]) != "[]" || r["contactKey"] != "u_idem" {
		t.Fatalf("duplicate = %v", r)
	}
	if r := send(`{"name":"idem.test","userId":"u_idem","idempotencyKey":"body-key"}`); r["stored"] != true {
		t.Fatalf("body key = %v", r)
	}
	// The key is global: another event name and person still count as a duplicate.
	if r := send(`{"name":"other","userId":"someone-else"}`, "idempotency-key", "hdr-key"); r["stored"] != false {
		t.Fatalf("cross-event duplicate = %v", r)
	}
	// Without a key every request stores a row; an empty key means none.
	send(`{"name":"idem.none","userId":"u_idem"}`)
	send(`{"name":"idem.none","userId":"u_idem","idempotencyKey":""}`)
	if n := h.count("SELECT count() FROM user_events FINAL WHERE event = 'idem.test'"); n != 2 {
		t.Fatalf("idem.test rows = %d, want 2", n)
	}
	if n := h.count("SELECT count() FROM user_events FINAL WHERE event = 'idem.none'"); n != 2 {
		t.Fatalf("idem.none rows = %d, want 2", n)
	}
	if n := h.count("SELECT count() FROM user_events FINAL WHERE event = 'other'"); n != 0 {
		t.Fatalf("duplicate stored a row")
	}
}

func testHealth(t *testing.T, h *harness) {
	if r := h.do("GET", "/healthz", "", "", ""); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	r := h.do("GET", "/readyz", "", "", "")
	if r.status != 200 || r.json(t)["status"] != "ready" {
		t.Fatalf("readyz %d %s", r.status, r.body)
	}
	r = h.do("GET", "/metrics", "", "", "")
	for _, want := range []string{
		`hogsend_http_requests_total{route="POST /v1/events",status="202"}`,
		`hogsend_http_requests_total{route="PUT /v1/contacts",status="400"}`,
		`hogsend_events_accepted_total{api="native"}`,
		`hogsend_spool_bytes`,
		`hogsend_clickhouse_insert_rows_total`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
	if r := h.do("OPTIONS", "/v1/events", "", "", "", "Origin", "https://app.example", "Access-Control-Request-Headers", "authorization,content-type"); r.status != 204 ||
		r.header.Get("Access-Control-Allow-Origin") != "https://app.example" || r.header.Get("Access-Control-Allow-Headers") != "authorization,content-type" {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
}
