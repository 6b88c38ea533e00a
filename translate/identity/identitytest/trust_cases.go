package identitytest

import (
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// Capture trust (docs/identity-trust.md): what the public token may do to
// identified contacts, what a user token proves, and what verified adds.

func public(o identity.ResolveOp) identity.ResolveOp {
	o.Trust = identity.TrustPublic
	return o
}

func verified(o identity.ResolveOp) identity.ResolveOp {
	o.Trust = identity.TrustVerified
	return o
}

// proven adds a valid user token's userId.
func proven(o identity.ResolveOp, user string) identity.ResolveOp {
	o.ProvenUser = user
	return o
}

// claim sets the op's $set.email.
func claim(o identity.ResolveOp, email string) identity.ResolveOp {
	o.EmailClaim = email
	return o
}

// victim is an identified contact with a property: setup contact 0 of most cases.
func victim(now int64) identity.ResolveOp {
	return withSet(identify(ph(now, "victim", mail("v@x"))), set("p", `"victim"`))
}

func trustCases() []phCase {
	promote, merge, resolve := canonical.ReasonPromote, canonical.ReasonMerge, canonical.ReasonResolve
	return []phCase{
		// Rule 1: $set.email only fills an empty email nobody holds.
		{
			name:    "public: $set.email fills a new contact's email",
			op:      claim(public(ph(T0+10, "d1")), "E@x "),
			flags:   "found,created",
			contact: newContact, columns: [3]string{"", "e@x", "d1"},
			aliases: []phAlias{
				{"anonymous", "d1", newContact, noContact, resolve},
				{"email", "e@x", newContact, noContact, resolve},
			},
			after: map[string]int{"d1": newContact},
		},
		{
			name:    "public: an email another contact holds is not taken, and attaches nothing",
			setup:   []identity.ResolveOp{victim(T0), ph(T0+5, "att")},
			op:      withSet(claim(public(ph(T0+10, "att")), "v@x"), set("email", `"v@x"`)),
			flags:   "found,linked",
			contact: 1, columns: [3]string{"", "", "att"},
			props:     `{"email":"v@x"}`,
			after:     map[string]int{"att": 1, "victim": 0},
			untouched: []int{0},
		},
		{
			name:    "public: an email held by another contact does not attach a new sender",
			setup:   []identity.ResolveOp{victim(T0)},
			op:      claim(public(ph(T0+10, "att")), "v@x"),
			flags:   "found,created",
			contact: newContact, columns: [3]string{"", "", "att"},
			aliases:   []phAlias{{"anonymous", "att", newContact, noContact, resolve}},
			after:     map[string]int{"att": newContact, "victim": 0},
			untouched: []int{0},
		},
		{
			name:    "public: an email never replaces the contact's own",
			setup:   []identity.ResolveOp{identify(ph(T0, "u1", mail("old@x")))},
			op:      claim(public(ph(T0+10, "u1")), "new@x"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u1", "old@x", ""},
		},
		{
			name:    "public: a user's contact without an email takes one",
			setup:   []identity.ResolveOp{identify(ph(T0, "u1"))},
			op:      claim(public(ph(T0+10, "u1")), "e@x"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u1", "e@x", ""},
			aliases: []phAlias{{"email", "e@x", 0, noContact, promote}},
		},

		// Rule 1: the login flow.
		{
			name: "public: $identify links the anonymous person to the user's contact",
			setup: []identity.ResolveOp{
				withSet(op(T0, ext("u1"), mail("u1@x")), set("p", `"user"`)),
				withSet(ph(T0+5, "a1"), set("p", `"anon"`), set("a", "1")),
			},
			op:      mergeFrom(identify(public(ph(T0+10, "u1"))), "a1"),
			flags:   "found,linked,merged",
			contact: 0, losers: []int{1}, columns: [3]string{"u1", "u1@x", "a1"},
			aliases: []phAlias{{"anonymous", "a1", 0, 1, merge}},
			props:   `{"a":1,"p":"user"}`,
			after:   map[string]int{"a1": 0, "u1": 0},
		},
		{
			name:    "public: $identify of a new user id promotes the anonymous contact",
			setup:   []identity.ResolveOp{ph(T0, "a1")},
			op:      mergeFrom(identify(public(ph(T0+10, "u1"))), "a1"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u1", "", "a1"},
			aliases: []phAlias{{"external", "u1", 0, noContact, promote}},
			after:   map[string]int{"u1": 0, "a1": 0},
		},
		{
			name:    "public: $identify adds no user id to a contact that has another",
			setup:   []identity.ResolveOp{op(T0, ext("u0"), anon("a1"))},
			op:      identify(public(ph(T0+10, "a1"))),
			flags:   "found,linked,unproven",
			contact: 0, columns: [3]string{"u0", "", "a1"},
			after: map[string]int{"a1": 0, "u0": 0},
		},
		{
			name:    "public: the user's own id is no change",
			setup:   []identity.ResolveOp{identify(ph(T0, "u1"))},
			op:      identify(public(ph(T0+10, "u1"))),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u1", "", ""},
		},

		// Rule 2: joining an identified contact needs proof.
		{
			name:    "public: $create_alias onto an identified contact is refused",
			setup:   []identity.ResolveOp{victim(T0), ph(T0+5, "att")},
			op:      mergeFrom(identify(public(ph(T0+10, "att"))), "victim"),
			flags:   "found,linked,mergeRefused,unproven",
			contact: 1, columns: [3]string{"att", "", "att"},
			aliases:   []phAlias{{"external", "att", 1, noContact, promote}},
			after:     map[string]int{"att": 1, "victim": 0},
			untouched: []int{0},
		},
		{
			name:    "public: $merge_dangerously onto an identified contact is refused",
			setup:   []identity.ResolveOp{victim(T0), ph(T0+5, "att")},
			op:      dangerously(mergeFrom(public(ph(T0+10, "att")), "victim")),
			flags:   "found,linked,mergeRefused,unproven",
			contact: 1, columns: [3]string{"", "", "att"},
			after:     map[string]int{"att": 1, "victim": 0},
			untouched: []int{0},
		},
		{
			name:    "public: a sender without a contact gets a new one, the identified source untouched",
			setup:   []identity.ResolveOp{victim(T0)},
			op:      mergeFrom(identify(public(ph(T0+10, "att"))), "victim"),
			flags:   "found,created,mergeRefused,unproven",
			contact: newContact, columns: [3]string{"att", "", ""},
			aliases:   []phAlias{{"external", "att", newContact, noContact, resolve}},
			after:     map[string]int{"att": newContact, "victim": 0},
			untouched: []int{0},
		},
		{
			name:    "public: a contact with only an email is identified too",
			setup:   []identity.ResolveOp{op(T0, mail("v@x"), anon("va")), ph(T0+5, "att")},
			op:      dangerously(mergeFrom(public(ph(T0+10, "att")), "va")),
			flags:   "found,linked,mergeRefused,unproven",
			contact: 1, columns: [3]string{"", "", "att"},
			after:     map[string]int{"att": 1, "va": 0},
			untouched: []int{0},
		},
		{
			name:    "public: two anonymous people merge as PostHog merges them",
			setup:   []identity.ResolveOp{ph(T0, "a1"), ph(T0+5, "a2")},
			op:      mergeFrom(public(ph(T0+10, "a2")), "a1"),
			flags:   "found,linked,merged",
			contact: 1, losers: []int{0}, columns: [3]string{"", "", "a2"},
			aliases: []phAlias{{"anonymous", "a1", 1, 0, merge}},
			after:   map[string]int{"a1": 1, "a2": 1},
		},
		{
			name:    "public: the user token's contact joins an anonymous target",
			setup:   []identity.ResolveOp{victim(T0), ph(T0+5, "a2")},
			op:      proven(dangerously(mergeFrom(public(ph(T0+10, "a2")), "victim")), "victim"),
			flags:   "found,linked,merged",
			contact: 1, losers: []int{0}, columns: [3]string{"victim", "v@x", "a2"},
			aliases: []phAlias{
				{"email", "v@x", 1, 0, merge},
				{"external", "victim", 1, 0, merge},
			},
			props: `{"p":"victim"}`,
			after: map[string]int{"a2": 1, "victim": 1},
		},
		{
			name:    "public: the user token's contact takes a sender without a contact",
			setup:   []identity.ResolveOp{identify(ph(T0, "u1"))},
			op:      proven(mergeFrom(identify(public(ph(T0+10, "d9"))), "u1"), "u1"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u1", "", ""},
			aliases: []phAlias{{"external", "d9", 0, noContact, promote}},
			after:   map[string]int{"d9": 0, "u1": 0},
		},
		{
			name:    "public: one user token never joins two identified people",
			setup:   []identity.ResolveOp{victim(T0), identify(ph(T0+5, "u2"))},
			op:      proven(dangerously(mergeFrom(public(ph(T0+10, "u2")), "victim")), "victim"),
			flags:   "found,linked,mergeRefused,unproven",
			contact: 1, columns: [3]string{"u2", "", ""},
			after:     map[string]int{"u2": 1, "victim": 0},
			untouched: []int{0},
		},
		{
			name:    "public: a user token for someone else proves nothing",
			setup:   []identity.ResolveOp{victim(T0), ph(T0+5, "att")},
			op:      proven(dangerously(mergeFrom(public(ph(T0+10, "att")), "victim")), "att"),
			flags:   "found,linked,mergeRefused,unproven",
			contact: 1, columns: [3]string{"", "", "att"},
			untouched: []int{0},
		},
		{
			name:    "full trust (secret token): $merge_dangerously merges identified people",
			setup:   []identity.ResolveOp{victim(T0), identify(ph(T0+5, "u2"))},
			op:      dangerously(mergeFrom(ph(T0+10, "u2"), "victim")),
			flags:   "found,linked,merged",
			contact: 1, losers: []int{0}, columns: [3]string{"u2", "v@x", ""},
			aliases: []phAlias{
				{"email", "v@x", 1, 0, merge},
				{"external", "victim", 1, 0, merge},
			},
			after: map[string]int{"victim": 1},
		},

		// Rule 3: verified needs proof for every write on an identified contact.
		{
			name:    "verified: $set on an identified contact without proof changes nothing",
			setup:   []identity.ResolveOp{victim(T0)},
			op:      claim(withSet(verified(ph(T0+10, "victim")), set("p", `"att"`)), "att@x"),
			flags:   "found,linked,unproven",
			contact: 0, columns: [3]string{"victim", "v@x", ""},
			unchanged: true,
			after:     map[string]int{"victim": 0},
		},
		{
			name:    "verified: $identify into an identified contact without proof: the anonymous person stays apart",
			setup:   []identity.ResolveOp{victim(T0), ph(T0+5, "a1")},
			op:      mergeFrom(identify(verified(ph(T0+10, "victim"))), "a1"),
			flags:   "found,linked,unproven",
			contact: 0, columns: [3]string{"victim", "v@x", ""},
			unchanged: true,
			after:     map[string]int{"victim": 0, "a1": 1},
		},
		{
			name:    "verified: with the user's token the login flow links",
			setup:   []identity.ResolveOp{victim(T0), ph(T0+5, "a1")},
			op:      proven(withSet(mergeFrom(identify(verified(ph(T0+10, "victim"))), "a1"), set("p", `"new"`)), "victim"),
			flags:   "found,linked,merged",
			contact: 0, losers: []int{1}, columns: [3]string{"victim", "v@x", "a1"},
			aliases: []phAlias{{"anonymous", "a1", 0, 1, merge}},
			props:   `{"p":"new"}`,
			after:   map[string]int{"victim": 0, "a1": 0},
		},
		{
			name:    "verified: an unproven $identify keeps the new id anonymous",
			setup:   []identity.ResolveOp{ph(T0, "a1")},
			op:      mergeFrom(identify(verified(ph(T0+10, "u9"))), "a1"),
			flags:   "found,linked,unproven",
			contact: 0, columns: [3]string{"", "", "a1"},
			aliases: []phAlias{{"anonymous", "u9", 0, noContact, promote}},
			after:   map[string]int{"u9": 0},
		},
		{
			name:    "verified: a proven $identify of a new user id promotes it",
			setup:   []identity.ResolveOp{ph(T0, "a1")},
			op:      proven(mergeFrom(identify(verified(ph(T0+10, "u9"))), "a1"), "u9"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u9", "", "a1"},
			aliases: []phAlias{{"external", "u9", 0, noContact, promote}},
			after:   map[string]int{"u9": 0},
		},
		{
			name:    "verified: a proven new user takes its email in the same op",
			op:      proven(claim(identify(verified(ph(T0+10, "u9"))), "u9@x"), "u9"),
			flags:   "found,created",
			contact: newContact, columns: [3]string{"u9", "u9@x", ""},
			aliases: []phAlias{
				{"external", "u9", newContact, noContact, resolve},
				{"email", "u9@x", newContact, noContact, resolve},
			},
		},
		{
			name:    "verified: $set.email on an anonymous contact needs proof",
			setup:   []identity.ResolveOp{ph(T0, "a1")},
			op:      withSet(claim(verified(ph(T0+10, "a1")), "e@x"), set("email", `"e@x"`)),
			flags:   "found,linked,unproven",
			contact: 0, columns: [3]string{"", "", "a1"},
			props: `{"email":"e@x"}`,
		},
		{
			name:    "verified: anonymous contacts change freely",
			setup:   []identity.ResolveOp{ph(T0, "a1")},
			op:      withSet(verified(ph(T0+10, "a1")), set("p", "1")),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"", "", "a1"},
			props: `{"p":1}`,
		},
		{
			name:    "verified: a plain event on an identified contact still resolves it",
			setup:   []identity.ResolveOp{victim(T0)},
			op:      verified(ph(T0+10, "victim")),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"victim", "v@x", ""},
			props: `{"p":"victim"}`,
		},
	}
}

func testTrust(t *testing.T, newStore func(*testing.T) identity.Store) {
	for _, tc := range trustCases() {
		t.Run(tc.name, func(t *testing.T) { runPHCase(t, newStore, tc) })
	}
}

// testTrustValidation: the trust fields belong to PostHog ops; a gated op
// still claims its idempotency key (the event is stored).
func testTrustValidation(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	ops := []identity.ResolveOp{
		public(op(T0, mail("a@x"))),
		proven(op(T0, mail("a@x")), "u1"),
		claim(op(T0, mail("a@x")), "b@x"),
	}
	res := make([]identity.ResolveResult, len(ops))
	if err := s.Resolve(ctx(t), ops, res); err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err == nil {
			t.Errorf("op %d: trust fields without Distinct accepted", i)
		}
	}
	equal(t, "nothing written", len(find(t, s, "a@x", "")), 0)
	v := resolve1(t, s, victim(T0))
	o := withIdem(withSet(verified(ph(T0+1, "victim")), set("p", "1")), "ev-1", 0)
	equal(t, "gated", flags(resolve1(t, s, o)), "found,linked,unproven")
	equal(t, "gated replay", flags(resolve1(t, s, o)), "found,linked,duplicate,unproven")
	equal(t, "victim", find(t, s, "", "victim"), []canonical.Contact{v.Contact})
}
