package abuse

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"
)

// takeoverAttacks send, with the public capture token only, every payload
// that once attached a sender to someone else's identified contact, and
// check that the victim's contact did not change.
func takeoverAttacks() []Attack {
	return []Attack{{Name: "identity-takeover", Group: "identity takeover", run: takeover}}
}

// contact is the part of GET /v1/contacts/find's answer a takeover changes.
type contact struct {
	ID         string         `json:"id"`
	ExternalID *string        `json:"externalId"`
	Email      *string        `json:"email"`
	Properties map[string]any `json:"properties"`
}

func takeover(ctx context.Context, t Target, src net.IP, r *Result) {
	client := t.httpClient(src, 2)
	defer client.CloseIdleConnections()
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	victim, email := "victim-"+run, "victim-"+run+"@corp.example"
	attacker, attackerAnon := "attacker-"+run, "attacker-anon-"+run

	upsert := fmt.Sprintf(`{"email":%q,"userId":%q,"properties":{"plan":"enterprise","owner":"victim"}}`, email, victim)
	if a := t.do(ctx, client, "PUT", "/v1/contacts", t.Key, upsert); a.Status != 200 {
		if ctx.Err() == nil {
			r.fail("victim upsert answered %d %s", a.Status, clip(a.Body))
		}
		return
	}
	before, ok := t.findOne(ctx, client, "userId", victim, r)
	if !ok {
		return
	}
	// The attacker is an identified person of its own.
	r.record("attacker identify", t.captureEvent(ctx, client, `{"event":"$identify","distinct_id":%q,"properties":{"$anon_distinct_id":%q,"$set":{"name":"mallory"}}}`, attacker, attackerAnon), Expect{Statuses: []int{200}})
	payloads := []string{
		`{"event":"$pageview","distinct_id":%[1]q,"properties":{%[3]s"$set":{"email":%[2]q}}}`,
		`{"event":"$set","distinct_id":%[1]q,"properties":{%[3]s"$set":{"email":%[2]q,"plan":"free"}}}`,
		`{"event":"$merge_dangerously","distinct_id":%[1]q,"properties":{%[3]s"alias":%[4]q}}`,
		`{"event":"$create_alias","distinct_id":%[1]q,"properties":{%[3]s"alias":%[4]q}}`,
		`{"event":"$identify","distinct_id":%[4]q,"properties":{%[3]s"$anon_distinct_id":%[1]q}}`,
		`{"event":"$identify","distinct_id":%[1]q,"properties":{%[3]s"$anon_distinct_id":%[4]q,"$set":{"plan":"free"}}}`,
	}
	for _, lib := range []string{"", `"$lib":"posthog-node",`} {
		for _, p := range payloads {
			a := t.captureEvent(ctx, client, p, attacker, email, lib, victim)
			r.record("takeover payload", a, Expect{Statuses: []int{200}})
		}
		engage := fmt.Sprintf(`{"api_key":%q,"distinct_id":%q,"$set":{"email":%q}}`, t.Token, attacker, email)
		r.record("engage $set email", t.do(ctx, client, "POST", "/engage/", "", engage), Expect{Statuses: []int{200}})
	}
	if ctx.Err() == nil {
		t.checkVictim(ctx, client, before, email, attacker, r)
	}
}

// checkVictim finds the victim by user id and email and compares it with
// before; the attacker's id must not find it.
func (t Target) checkVictim(ctx context.Context, client *http.Client, before contact, email, attacker string, r *Result) {
	after, ok := t.findOne(ctx, client, "userId", *before.ExternalID, r)
	if ok && !reflect.DeepEqual(before, after) {
		r.fail("victim's contact changed: before %+v, after %+v", show(before), show(after))
	}
	if byEmail, ok := t.findOne(ctx, client, "email", email, r); ok && byEmail.ID != before.ID {
		r.fail("victim's email finds contact %s, not the victim's %s", byEmail.ID, before.ID)
	}
	cs, _ := t.find(ctx, client, "userId", attacker)
	for _, c := range cs {
		// The attacker's own contact, or nothing, is what it may find.
		if c.ID == before.ID {
			r.fail("the attacker's distinct_id %s finds the victim's contact", attacker)
		}
	}
}

func show(c contact) string {
	b, _ := json.Marshal(c)
	return string(b)
}

// captureEvent sends one event (a format filled with args) in a /batch/
// request with the public token.
func (t Target) captureEvent(ctx context.Context, client *http.Client, format string, args ...any) Answer {
	body := fmt.Sprintf(`{"api_key":%q,"batch":[%s]}`, t.Token, fmt.Sprintf(format, args...))
	return t.do(ctx, client, "POST", "/batch/", "", body)
}

func (t Target) find(ctx context.Context, client *http.Client, by, value string) ([]contact, Answer) {
	a := t.do(ctx, client, "GET", "/v1/contacts/find?"+by+"="+url.QueryEscape(value), t.Key, "")
	var out struct{ Contacts []contact }
	if a.Status == 200 {
		json.Unmarshal(a.Body, &out)
	}
	return out.Contacts, a
}

// findOne finds exactly one contact, or records why not.
func (t Target) findOne(ctx context.Context, client *http.Client, by, value string, r *Result) (contact, bool) {
	cs, a := t.find(ctx, client, by, value)
	if a.Status != 200 || len(cs) != 1 {
		if ctx.Err() != nil {
			return contact{}, false // stopped, not answered
		}
		r.fail("find %s=%s: %d, %d contacts: %s", by, value, a.Status, len(cs), clip(a.Body))
		return contact{}, false
	}
	return cs[0], true
}
