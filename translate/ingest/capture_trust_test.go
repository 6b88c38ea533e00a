package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

const (
	trustSecret     = "phs_server_secret"
	trustUserSecret = "user-token-secret"
)

// trustRig is an ingestor on the in-process store with capture helpers.
type trustRig struct {
	t     *testing.T
	store *identity.Memory
	j     *flakyJournal
	in    *Ingestor
	opts  CaptureOptions
}

func newTrustRig(t *testing.T, verified bool) *trustRig {
	r := &trustRig{t: t, store: identity.NewMemory(), j: &flakyJournal{}}
	r.in = New(r.store, r.j, Options{IdempotencyWindow: time.Hour})
	t.Cleanup(r.in.Close)
	r.opts = CaptureOptions{
		Tokens: map[string]bool{"phc_public": true},
		Trust:  CaptureTrust{SecretTokens: []string{"phs_other", trustSecret}, Verified: verified, UserTokenSecret: trustUserSecret},
	}
	return r
}

// send captures one event with token; props is the properties object's text.
func (r *trustRig) send(token, event, distinct, props string) CaptureResult {
	r.t.Helper()
	body := `{"api_key":"` + token + `","event":"` + event + `","distinct_id":"` + distinct + `","properties":` + props + `}`
	res, err := r.in.Capture(context.Background(), CaptureRequest{Path: "/e", ContentType: "application/json", Body: []byte(body)}, r.opts)
	if err != nil {
		r.t.Fatalf("capture %s: %v", body, err)
	}
	return res
}

// contact is the one live contact userID finds.
func (r *trustRig) contact(userID string) canonical.Contact {
	r.t.Helper()
	cs, err := r.store.Find(context.Background(), "", userID)
	if err != nil || len(cs) != 1 {
		r.t.Fatalf("find %q: %v, %v", userID, cs, err)
	}
	return cs[0]
}

// lastEvent is the last event stored.
func (r *trustRig) lastEvent() canonical.Event {
	b := r.j.batches[len(r.j.batches)-1]
	return b.Events[len(b.Events)-1]
}

func userToken(user string) string {
	return apikeys.SignUserToken(user, time.Now().Add(time.Hour), trustUserSecret)
}

// TestCaptureTakeoverPayloadsRefused: with the public token, each takeover
// payload leaves the victim's contact as it was and is still stored, with
// a warning; the same joins succeed with the victim's user token or the
// secret token.
func TestCaptureTakeoverPayloadsRefused(t *testing.T) {
	r := newTrustRig(t, false)
	r.send(trustSecret, "$identify", "victim", `{"$set":{"email":"victim@corp.com","plan":"gold"}}`)
	victim := r.contact("victim")
	if victim.Email != "victim@corp.com" {
		t.Fatalf("victim = %+v", victim)
	}
	f := func(event, props, warning string) {
		t.Helper()
		res := r.send("phc_public", event, "attacker", props)
		if res.Stored != 1 || !slices.Contains(res.Warnings, warning) && warning != "" {
			t.Fatalf("%s %s: %+v, want it stored with warning %q", event, props, res, warning)
		}
		if got := r.contact("victim"); !equalContacts(got, victim) {
			t.Fatalf("%s %s changed the victim:\n got  %+v\n want %+v", event, props, got, victim)
		}
		if ev := r.lastEvent(); ev.ContactID == victim.ID {
			t.Fatalf("%s %s: the event landed on the victim's contact", event, props)
		}
	}
	f("$set", `{"$set":{"email":"victim@corp.com"}}`, "")
	f("$merge_dangerously", `{"alias":"victim"}`, warnDangerouslyNeeds)
	f("$create_alias", `{"alias":"victim"}`, warnMergeRefused)
	f("$identify", `{"$anon_distinct_id":"victim"}`, warnMergeRefused)
	f("$merge_dangerously", `{"alias":"victim","$hogsend_user_token":"`+userToken("attacker")+`"}`, warnMergeRefused)
	f("$merge_dangerously", `{"alias":"victim","$hogsend_user_token":"forged.token"}`, warnInvalidUserToken)
	if c := r.contact("attacker"); c.Email != "" || !strings.Contains(string(c.Properties), `"email":"victim@corp.com"`) {
		t.Fatalf("the attacker's contact = %+v, want the email as a plain property only", c)
	}

	// The victim's own user token proves the victim: the join is theirs to
	// make, from an anonymous browser (the attacker's contact is identified
	// by now: one token never joins two identified people).
	r.send("phc_public", "$pageview", "victim-browser", `{}`)
	res := r.send("phc_public", "$merge_dangerously", "victim-browser", `{"alias":"victim","$hogsend_user_token":"`+userToken("victim")+`"}`)
	if len(res.Warnings) != 0 || r.lastEvent().ContactID != r.contact("victim").ID {
		t.Fatalf("proven merge: %+v; event contact %s, victim %s", res, r.lastEvent().ContactID, r.contact("victim").ID)
	}
	// A secret token merges identified people.
	r.send(trustSecret, "$identify", "u2", `{"$set":{"email":"u2@corp.com"}}`)
	if res := r.send(trustSecret, "$merge_dangerously", "u2", `{"alias":"victim"}`); len(res.Warnings) != 0 {
		t.Fatalf("secret merge warnings %v", res.Warnings)
	}
	if r.contact("victim").ID != r.contact("u2").ID {
		t.Fatalf("secret merge did not join the contacts")
	}
}

func equalContacts(a, b canonical.Contact) bool {
	return a.ID == b.ID && a.ExternalID == b.ExternalID && a.Email == b.Email && a.AnonymousID == b.AnonymousID &&
		string(a.Properties) == string(b.Properties) && a.Version == b.Version
}

// TestCaptureSecretTokenEmailIsAKey: with the secret token $set.email is a
// lookup key (a backend's identify joins the contact holding the email);
// with the public token it is not.
func TestCaptureSecretTokenEmailIsAKey(t *testing.T) {
	r := newTrustRig(t, false)
	r.send("phc_public", "$set", "holder", `{"$set":{"email":"e@corp.com"}}`)
	cs, err := r.store.Find(context.Background(), "e@corp.com", "")
	if err != nil || len(cs) != 1 || cs[0].AnonymousID != "holder" {
		t.Fatalf("public $set.email on a new anonymous contact = %+v, %v, want it the email key", cs, err)
	}
	r.send("phc_public", "$identify", "u-public", `{"$set":{"email":"e@corp.com"}}`)
	if r.contact("u-public").ID == cs[0].ID {
		t.Fatalf("public identify joined the email's contact")
	}
	r.send(trustSecret, "$identify", "u-server", `{"$set":{"email":"e@corp.com"}}`)
	if r.contact("u-server").ID != cs[0].ID {
		t.Fatalf("secret identify did not join the email's contact")
	}
}

// TestCaptureVerifiedIdentity: under verified, writes on an identified
// contact need its user token.
func TestCaptureVerifiedIdentity(t *testing.T) {
	r := newTrustRig(t, true)
	r.send(trustSecret, "$identify", "u1", `{"$set":{"plan":"gold"}}`)
	before := r.contact("u1")
	res := r.send("phc_public", "$set", "u1", `{"$set":{"plan":"free"}}`)
	if !slices.Contains(res.Warnings, warnNeedsProof) || !equalContacts(r.contact("u1"), before) {
		t.Fatalf("unproven $set: %+v, contact %+v", res, r.contact("u1"))
	}
	if ev := r.lastEvent(); ev.ContactID != before.ID {
		t.Fatalf("the unproven event is not linked to the contact")
	}
	res = r.send("phc_public", "$set", "u1", `{"$set":{"plan":"free"},"$hogsend_user_token":"`+userToken("u1")+`"}`)
	if len(res.Warnings) != 0 || !strings.Contains(string(r.contact("u1").Properties), `"plan":"free"`) {
		t.Fatalf("proven $set: %+v, contact %s", res, r.contact("u1").Properties)
	}
	// An unproven identify keeps the new id anonymous: no contact has it as a user id.
	res = r.send("phc_public", "$identify", "u9", `{"$anon_distinct_id":"a9"}`)
	if cs, _ := r.store.Find(context.Background(), "", "u9"); len(cs) != 0 || !slices.Contains(res.Warnings, warnNeedsProof) {
		t.Fatalf("unproven identify: %+v, find u9 = %+v", res, cs)
	}
}

// TestCaptureCredentialTravelsWithTheEvent: the secret token is accepted
// beside the public allow-list and marks its events; the user token is
// removed from the stored properties.
func TestCaptureCredentialTravelsWithTheEvent(t *testing.T) {
	r := newTrustRig(t, false)
	f := func(token string, wantSecret bool) {
		t.Helper()
		r.send(token, "signed_up", "u1", `{"$lib":"posthog-node","a":1,"$hogsend_user_token":"`+userToken("u1")+`","b":[2]}`)
		ev := r.lastEvent()
		if ev.SecretToken != wantSecret || ev.Lib != "posthog-node" {
			t.Fatalf("token %s: SecretToken %v, lib %q", token, ev.SecretToken, ev.Lib)
		}
		var props map[string]any
		if err := json.Unmarshal(ev.Properties, &props); err != nil || len(props) != 3 || props["a"] != 1.0 {
			t.Fatalf("stored properties %s (%v)", ev.Properties, err)
		}
		if _, ok := props[UserTokenProperty]; ok {
			t.Fatalf("the user token was stored: %s", ev.Properties)
		}
	}
	f("phc_public", false)
	f(trustSecret, true)
	f("phs_other", true)
	_, err := r.in.Capture(context.Background(), CaptureRequest{Path: "/e", ContentType: "application/json",
		Body: []byte(`{"api_key":"phs_server_secreT","event":"e","distinct_id":"d"}`)}, r.opts)
	if !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("a token one letter off the secret = %v, want ErrUnknownToken", err)
	}
}

func TestWithoutMember(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got := string(withoutMember(gjson.Parse(in), UserTokenProperty))
		if got != want {
			t.Fatalf("withoutMember(%s) = %s, want %s", in, got, want)
		}
	}
	f(`{"$hogsend_user_token":"x"}`, `{}`)
	f(`{"a":1,"$hogsend_user_token":"x"}`, `{"a":1}`)
	f(`{"$hogsend_user_token":"x","a":1}`, `{"a":1}`)
	f(`{ "a" : {"b":[1,2]} , "$hogsend_user_token":null, "c":"\u0024"}`, `{"a":{"b":[1,2]},"c":"\u0024"}`)
	f(`{"$hogsend_user_token":1,"$hogsend_user_token":2}`, `{}`)
}

func TestMayHoldUserToken(t *testing.T) {
	f := func(raw string, want bool) {
		t.Helper()
		if got := mayHoldUserToken(raw); got != want || got != strings.Contains(raw, UserTokenProperty) {
			t.Fatalf("mayHoldUserToken(%q) = %v, want %v", raw, got, want)
		}
	}
	f(``, false)
	f(`k`, false)
	f(`{"token":"k","kk":1}`, false)
	f(`$hogsend_user_token`, true)
	f(`{"$hogsend_user_token":"x"}`, true)
	f(`{"k":"$hogsend_user_to","ken":1}`, false)
	f(`{"a":"$hogsend_user_tok$hogsend_user_token"}`, true)
	f(`hogsend_user_token`, false)
}

func FuzzMayHoldUserToken(f *testing.F) {
	f.Add(`{"$hogsend_user_token":"x"}`)
	f.Add(`kkk$hogsend_user_tokk`)
	f.Fuzz(func(t *testing.T, raw string) {
		if got, want := mayHoldUserToken(raw), strings.Contains(raw, UserTokenProperty); got != want {
			t.Fatalf("mayHoldUserToken(%q) = %v, strings.Contains says %v", raw, got, want)
		}
	})
}

// TestCaptureUserTokenPerEvent: each event's user token is judged on its
// own, also when a batch repeats one.
func TestCaptureUserTokenPerEvent(t *testing.T) {
	r := newTrustRig(t, false)
	good := userToken("u1")
	ev := func(tok string) string {
		return `{"event":"e","distinct_id":"b1","properties":{"$hogsend_user_token":"` + tok + `"}}`
	}
	body := `{"api_key":"phc_public","batch":[` + ev(good) + `,` + ev("forged.token") + `,` + ev(good) + `,` + ev("forged.token") + `]}`
	res, err := r.in.Capture(context.Background(), CaptureRequest{Path: "/batch", ContentType: "application/json", Body: []byte(body)}, r.opts)
	if err != nil || res.Stored != 4 {
		t.Fatalf("capture = %+v, %v", res, err)
	}
	want := []string{warnInvalidUserToken, warnInvalidUserToken}
	if !slices.Equal(res.Warnings, want) {
		t.Fatalf("warnings %v, want %v", res.Warnings, want)
	}
}
