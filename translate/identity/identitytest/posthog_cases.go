package identitytest

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// PostHog identity (docs/contracts/posthog-capture.md §4): Distinct, Identify, MergeFrom,
// MergeDangerously and Unset.

// ph builds a create-capable op for the PostHog distinct id d, plus native keys.
func ph(now int64, d string, keys ...identity.Key) identity.ResolveOp {
	o := op(now, keys...)
	o.Distinct = d
	return o
}

// identify marks the distinct id as an identified user id ($identify's target).
func identify(o identity.ResolveOp) identity.ResolveOp {
	o.Identify = true
	return o
}

// mergeFrom sets the id whose contact merges into the distinct id's.
func mergeFrom(o identity.ResolveOp, from string) identity.ResolveOp {
	o.MergeFrom = from
	return o
}

func dangerously(o identity.ResolveOp) identity.ResolveOp {
	o.MergeDangerously = true
	return o
}

// Contact references in phCase: an index into setup, or one of these.
const (
	newContact = -1 // the contact the op created
	noContact  = -2 // uuid.Nil (no FromContactID)
)

// phAlias is an expected alias row; a value "#i" is setup contact i's uuid.
type phAlias struct {
	kind, value string
	to, from    int
	reason      string
}

type phCase struct {
	name  string
	setup []identity.ResolveOp // each makes one contact, referred to by index
	op    identity.ResolveOp
	flags string
	// contact and losers (in order) as setup indexes or newContact.
	contact int
	losers  []int
	columns [3]string // external_id, email, anonymous_id after the op
	aliases []phAlias
	props   string // exact JSON; "" = not checked
	// after: distinct ids ("#i" = setup i's uuid) and the contact each
	// resolves to once the op is done.
	after map[string]int
	// untouched: identified setup contacts the op must leave as they were.
	untouched []int
	// unchanged: the op resolves contact without writing anything to it.
	unchanged bool
}

func phCases() []phCase {
	promote, merge, resolve := canonical.ReasonPromote, canonical.ReasonMerge, canonical.ReasonResolve
	return []phCase{
		// Distinct alone.
		{
			name:    "distinct not found: created with it as anonymous key",
			op:      withSet(ph(T0+10, "d1"), set("p", "1")),
			flags:   "found,created",
			contact: newContact, columns: [3]string{"", "", "d1"},
			aliases: []phAlias{{"anonymous", "d1", newContact, noContact, resolve}},
			props:   `{"p":1}`,
			after:   map[string]int{"d1": newContact},
		},
		{
			name:    "identify not found: created with it as external key",
			op:      identify(ph(T0+10, "u1")),
			flags:   "found,created",
			contact: newContact, columns: [3]string{"u1", "", ""},
			aliases: []phAlias{{"external", "u1", newContact, noContact, resolve}},
			after:   map[string]int{"u1": newContact},
		},
		{
			name:    "distinct finds an external alias",
			setup:   []identity.ResolveOp{op(T0, ext("u1"))},
			op:      ph(T0+10, "u1"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u1", "", ""},
		},
		{
			name:    "distinct finds an anonymous alias",
			setup:   []identity.ResolveOp{op(T0, anon("a1"))},
			op:      ph(T0+10, "a1"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"", "", "a1"},
		},
		{
			name:    "external alias is looked up before anonymous",
			setup:   []identity.ResolveOp{op(T0, anon("x")), op(T0+1, ext("x"))},
			op:      ph(T0+10, "x"),
			flags:   "found,linked",
			contact: 1, columns: [3]string{"x", "", ""},
		},
		{
			name:    "identify promotes an anonymous distinct id to external key",
			setup:   []identity.ResolveOp{ph(T0, "a1")},
			op:      identify(ph(T0+10, "a1")),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"a1", "", "a1"},
			aliases: []phAlias{{"external", "a1", 0, noContact, promote}},
		},
		{
			name:    "identify never overwrites an external_id",
			setup:   []identity.ResolveOp{op(T0, ext("u0"), anon("a1"))},
			op:      identify(ph(T0+10, "a1")),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u0", "", "a1"},
			aliases: []phAlias{{"external", "a1", 0, noContact, promote}},
			after:   map[string]int{"a1": 0, "u0": 0},
		},
		{
			name:    "distinct joins the contact an email key matches",
			setup:   []identity.ResolveOp{op(T0, mail("e@x"))},
			op:      ph(T0+10, "d1", mail("e@x")),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"", "e@x", "d1"},
			aliases: []phAlias{{"anonymous", "d1", 0, noContact, promote}},
		},
		{
			name:    "identify with a different external key: the key fills the column",
			op:      identify(ph(T0+10, "u1", ext("x"))),
			flags:   "found,created",
			contact: newContact, columns: [3]string{"x", "", ""},
			aliases: []phAlias{
				{"external", "x", newContact, noContact, resolve},
				{"external", "u1", newContact, noContact, resolve},
			},
			after: map[string]int{"u1": newContact, "x": newContact},
		},
		{
			name:    "without merge_from, distinct and keys merge by the native survivor rule",
			setup:   []identity.ResolveOp{op(T0, mail("e@x")), ph(T0+5, "d1")},
			op:      ph(T0+10, "d1", mail("e@x")),
			flags:   "found,linked,merged",
			contact: 0, losers: []int{1}, columns: [3]string{"", "e@x", "d1"},
			aliases: []phAlias{{"anonymous", "d1", 0, 1, merge}},
			after:   map[string]int{"d1": 0},
		},

		// MergeFrom (docs/contracts/posthog-capture.md §4.3).
		{
			name:    "merge_from equal to distinct is ignored",
			op:      mergeFrom(identify(ph(T0+10, "u1")), " u1 "),
			flags:   "found,created",
			contact: newContact, columns: [3]string{"u1", "", ""},
			aliases: []phAlias{{"external", "u1", newContact, noContact, resolve}},
		},
		{
			name:    "neither exists: one contact with both ids (identify)",
			op:      withSet(mergeFrom(identify(ph(T0+10, "u1")), "a1"), set("p", "1")),
			flags:   "found,created",
			contact: newContact, columns: [3]string{"u1", "", "a1"},
			aliases: []phAlias{
				{"external", "u1", newContact, noContact, resolve},
				{"anonymous", "a1", newContact, noContact, resolve},
			},
			props: `{"p":1}`,
			after: map[string]int{"u1": newContact, "a1": newContact},
		},
		{
			name:    "neither exists: one contact with both ids (alias)",
			op:      mergeFrom(ph(T0+10, "d1"), "a1"),
			flags:   "found,created",
			contact: newContact, columns: [3]string{"", "", "d1"},
			aliases: []phAlias{
				{"anonymous", "d1", newContact, noContact, resolve},
				{"anonymous", "a1", newContact, noContact, resolve},
			},
			after: map[string]int{"d1": newContact, "a1": newContact},
		},
		{
			name:    "only distinct's contact exists: merge_from added as anonymous key",
			setup:   []identity.ResolveOp{identify(ph(T0, "u1"))},
			op:      mergeFrom(identify(ph(T0+10, "u1")), "a1"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u1", "", "a1"},
			aliases: []phAlias{{"anonymous", "a1", 0, noContact, promote}},
			after:   map[string]int{"a1": 0},
		},
		{
			name:    "only distinct's contact exists, anonymous column taken: alias only",
			setup:   []identity.ResolveOp{op(T0, ext("u1"), anon("a0"))},
			op:      mergeFrom(identify(ph(T0+10, "u1")), "a1"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u1", "", "a0"},
			aliases: []phAlias{{"anonymous", "a1", 0, noContact, promote}},
			after:   map[string]int{"a1": 0, "a0": 0},
		},
		{
			name:    "only merge_from's contact exists: distinct added as external key",
			setup:   []identity.ResolveOp{ph(T0, "a1")},
			op:      mergeFrom(identify(ph(T0+10, "u1")), "a1"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u1", "", "a1"},
			aliases: []phAlias{{"external", "u1", 0, noContact, promote}},
			after:   map[string]int{"u1": 0},
		},
		{
			name:    "only merge_from's contact exists: distinct added as anonymous key",
			setup:   []identity.ResolveOp{ph(T0, "a1")},
			op:      mergeFrom(ph(T0+10, "d2"), "a1"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"", "", "a1"},
			aliases: []phAlias{{"anonymous", "d2", 0, noContact, promote}},
			after:   map[string]int{"d2": 0},
		},
		{
			name:    "only merge_from's contact exists, identified: distinct still added",
			setup:   []identity.ResolveOp{identify(ph(T0, "u0"))},
			op:      mergeFrom(identify(ph(T0+10, "u1")), "u0"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u0", "", ""},
			aliases: []phAlias{{"external", "u1", 0, noContact, promote}},
			after:   map[string]int{"u1": 0, "u0": 0},
		},
		{
			name:    "both on one contact: nothing to merge",
			setup:   []identity.ResolveOp{mergeFrom(identify(ph(T0, "u1")), "a1")},
			op:      mergeFrom(identify(ph(T0+10, "u1")), "a1"),
			flags:   "found,linked",
			contact: 0, columns: [3]string{"u1", "", "a1"},
		},
		{
			name: "anonymous source merges into the target: properties source first, target on top, patch last",
			setup: []identity.ResolveOp{
				withSet(ph(T0, "a1"), set("a", `"S"`), set("s", "1"), set("discord", `{"id":"1","n":"s"}`)),
				withSet(identify(ph(T0+5, "u1")), set("a", `"T"`), set("t", "1"), set("discord", `{"n":"t"}`)),
			},
			op: withOnce(withSet(mergeFrom(identify(ph(T0+10, "u1")), "a1"), set("p", `"P"`)),
				set("s", `"O"`), set("o", `"O"`)),
			flags:   "found,linked,merged",
			contact: 1, losers: []int{0}, columns: [3]string{"u1", "", "a1"},
			aliases: []phAlias{{"anonymous", "a1", 1, 0, merge}},
			props:   `{"a":"T","discord":{"id":"1","n":"t"},"o":"O","p":"P","s":1,"t":1}`,
			after:   map[string]int{"a1": 1, "u1": 1},
		},
		{
			name:    "the target survives although the source ranks first natively",
			setup:   []identity.ResolveOp{ph(T0, "a-old"), ph(T0+5, "d-new")},
			op:      mergeFrom(ph(T0+10, "d-new"), "a-old"),
			flags:   "found,linked,merged",
			contact: 1, losers: []int{0}, columns: [3]string{"", "", "d-new"},
			aliases: []phAlias{{"anonymous", "a-old", 1, 0, merge}},
			after:   map[string]int{"a-old": 1, "d-new": 1},
		},
		{
			name: "identified source: merge refused, the target still resolved and patched",
			setup: []identity.ResolveOp{
				withSet(identify(ph(T0, "u0")), set("s", "1")),
				identify(ph(T0+5, "u1")),
			},
			op:      withSet(mergeFrom(identify(ph(T0+10, "u1")), "u0"), set("p", "1")),
			flags:   "found,linked,mergeRefused",
			contact: 1, columns: [3]string{"u1", "", ""},
			props:     `{"p":1}`,
			after:     map[string]int{"u0": 0, "u1": 1},
			untouched: []int{0},
		},
		{
			name: "identified source, target found by its anonymous id: refused, distinct promoted",
			setup: []identity.ResolveOp{
				identify(ph(T0, "u0")),
				ph(T0+5, "a1"),
			},
			op:      mergeFrom(identify(ph(T0+10, "a1")), "u0"),
			flags:   "found,linked,mergeRefused",
			contact: 1, columns: [3]string{"a1", "", "a1"},
			aliases:   []phAlias{{"external", "a1", 1, noContact, promote}},
			untouched: []int{0},
		},
		{
			name: "identified source with merge_dangerously: merged, the target survives",
			setup: []identity.ResolveOp{
				withSet(identify(ph(T0, "u0", mail("s@x"))), set("a", `"S"`), set("s", "1")),
				withSet(identify(ph(T0+5, "u1")), set("a", `"T"`)),
			},
			op:      dangerously(mergeFrom(identify(ph(T0+10, "u1")), "u0")),
			flags:   "found,linked,merged",
			contact: 1, losers: []int{0}, columns: [3]string{"u1", "s@x", ""},
			aliases: []phAlias{
				{"email", "s@x", 1, 0, merge},
				{"external", "u0", 1, 0, merge},
			},
			props: `{"a":"T","s":1}`,
			after: map[string]int{"u0": 1, "u1": 1},
		},
		{
			name: "keys match a third contact: it merges into the target too, the source last",
			setup: []identity.ResolveOp{
				withSet(identify(ph(T0+5, "u1")), set("t", "1")),
				withSet(ph(T0+1, "a1"), set("x", `"S"`)),
				withSet(op(T0, mail("k@x")), set("x", `"K"`), set("k", "1")),
			},
			op:      mergeFrom(identify(ph(T0+10, "u1", mail("k@x"))), "a1"),
			flags:   "found,linked,merged",
			contact: 0, losers: []int{2, 1}, columns: [3]string{"u1", "k@x", "a1"},
			aliases: []phAlias{
				{"email", "k@x", 0, 2, merge},
				{"external", "#2", 0, 2, merge}, // known only by its uuid
				{"anonymous", "a1", 0, 1, merge},
			},
			props: `{"k":1,"t":1,"x":"K"}`,
			after: map[string]int{"a1": 0, "u1": 0, "#2": 0},
		},
		{
			name: "keys match an earlier identified contact: the target still survives",
			setup: []identity.ResolveOp{
				op(T0, ext("k1"), mail("k@x")),
				identify(ph(T0+5, "u1")),
			},
			op:      mergeFrom(identify(ph(T0+10, "u1", mail("k@x"))), "a1"),
			flags:   "found,linked,merged",
			contact: 1, losers: []int{0}, columns: [3]string{"u1", "k@x", "a1"},
			aliases: []phAlias{
				{"email", "k@x", 1, 0, merge},
				{"external", "k1", 1, 0, merge},
				{"anonymous", "a1", 1, noContact, promote},
			},
			after: map[string]int{"k1": 1, "a1": 1},
		},
		{
			name: "keys also match the identified source: merged like native keys, not refused",
			setup: []identity.ResolveOp{
				identify(ph(T0, "u0", mail("s@x"))),
				identify(ph(T0+5, "u1")),
			},
			op:      mergeFrom(identify(ph(T0+10, "u1", mail("s@x"))), "u0"),
			flags:   "found,linked,merged",
			contact: 1, losers: []int{0}, columns: [3]string{"u1", "s@x", ""},
			aliases: []phAlias{
				{"email", "s@x", 1, 0, merge},
				{"external", "u0", 1, 0, merge},
			},
			after: map[string]int{"u0": 1},
		},
		{
			name: "no distinct contact, keys match one: the source merges into it",
			setup: []identity.ResolveOp{
				op(T0+5, mail("e@x")),
				ph(T0, "a1"),
			},
			op:      mergeFrom(identify(ph(T0+10, "u1", mail("e@x"))), "a1"),
			flags:   "found,linked,merged",
			contact: 0, losers: []int{1}, columns: [3]string{"u1", "e@x", "a1"},
			aliases: []phAlias{
				{"anonymous", "a1", 0, 1, merge},
				{"external", "u1", 0, noContact, promote},
			},
			after: map[string]int{"u1": 0, "a1": 0},
		},
		{
			name: "no distinct contact, keys match one, identified source: refused",
			setup: []identity.ResolveOp{
				op(T0+5, mail("e@x")),
				identify(ph(T0, "u0")),
			},
			op:      mergeFrom(identify(ph(T0+10, "u1", mail("e@x"))), "u0"),
			flags:   "found,linked,mergeRefused",
			contact: 0, columns: [3]string{"u1", "e@x", ""},
			aliases:   []phAlias{{"external", "u1", 0, noContact, promote}},
			after:     map[string]int{"u1": 0, "u0": 1},
			untouched: []int{1},
		},
	}
}

func testPostHogIdentity(t *testing.T, newStore func(*testing.T) identity.Store) {
	for _, tc := range phCases() {
		t.Run(tc.name, func(t *testing.T) { runPHCase(t, newStore, tc) })
	}
	t.Run("RefuseIdentified and NoCreate", func(t *testing.T) { testPostHogGuards(t, newStore) })
}

// runPHCase sets up tc's contacts, runs its op and checks the outcome.
func runPHCase(t *testing.T, newStore func(*testing.T) identity.Store, tc phCase) {
	s := newStore(t)
	made := make([]canonical.Contact, len(tc.setup))
	for i, o := range tc.setup {
		r := resolve1(t, s, o)
		if !r.Created {
			t.Fatalf("setup %d: %s, want a new contact", i, flags(r))
		}
		made[i] = r.Contact
	}
	r := resolve1(t, s, tc.op)
	now := tc.op.Now
	idOf := func(i int) uuid.UUID {
		switch i {
		case newContact:
			return tc.op.NewID
		case noContact:
			return uuid.Nil
		}
		return made[i].ID
	}
	value := func(v string) string {
		if i, err := strconv.Atoi(strings.TrimPrefix(v, "#")); err == nil && strings.HasPrefix(v, "#") {
			return made[i].ID.String()
		}
		return v
	}
	equal(t, "flags", flags(r), tc.flags)
	c := r.Contact
	equal(t, "contact", c.ID, idOf(tc.contact))
	equal(t, "columns", [3]string{c.ExternalID, c.Email, c.AnonymousID}, tc.columns)
	wantLosers := []uuid.UUID{}
	first := now
	if tc.contact != newContact {
		first = made[tc.contact].FirstSeenAt
	}
	for _, i := range tc.losers {
		wantLosers = append(wantLosers, made[i].ID)
		first = min(first, made[i].FirstSeenAt)
	}
	equal(t, "losers", ids(r.Losers), wantLosers)
	if tc.unchanged {
		equal(t, "unchanged contact", c, made[tc.contact])
	} else {
		equal(t, "times", []int64{c.FirstSeenAt, c.LastSeenAt, c.UpdatedAt, c.DeletedAt}, []int64{first, now, now, 0})
	}
	for _, l := range r.Losers {
		equal(t, "loser deleted", []int64{l.DeletedAt, l.UpdatedAt}, []int64{now, now})
		equal(t, "loser version", l.Version, c.Version)
	}
	var want []canonical.Alias
	for _, a := range tc.aliases {
		want = append(want, alias(a.kind, value(a.value), idOf(a.to), idOf(a.from), a.reason, c.Version, now))
	}
	equal(t, "aliases", r.Aliases, want)
	if tc.props != "" {
		equal(t, "properties", string(c.Properties), tc.props)
	}
	for _, i := range tc.untouched {
		email, user := "", made[i].ExternalID
		if user == "" {
			email = made[i].Email
		}
		equal(t, "untouched contact "+strconv.Itoa(i), find(t, s, email, user), []canonical.Contact{made[i]})
	}
	// Merged-away contacts are gone: no key finds them any more.
	for _, i := range tc.losers {
		if made[i].Email != "" {
			equal(t, "loser email finds the survivor", ids(find(t, s, made[i].Email, "")), []uuid.UUID{c.ID})
		}
	}
	ds := make([]string, 0, len(tc.after))
	for d := range tc.after {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	for _, d := range ds {
		o := ph(now+1, value(d))
		o.NoCreate = true
		r2 := resolve1(t, s, o)
		equal(t, "afterwards "+d, flags(r2), "found,linked")
		equal(t, "afterwards "+d+" id", r2.Contact.ID, idOf(tc.after[d]))
		equal(t, "afterwards "+d+" aliases", len(r2.Aliases), 0)
	}
}

// testPostHogGuards: RefuseIdentified covers MergeFrom's contact; NoCreate
// creates nothing but still links.
func testPostHogGuards(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	refusing := func(o identity.ResolveOp) identity.ResolveOp {
		o.RefuseIdentified = true
		return o
	}
	r := resolve1(t, s, refusing(mergeFrom(ph(T0, "d1"), "a1")))
	equal(t, "anonymous pair", flags(r), "found,created")
	anonC := r.Contact
	u := resolve1(t, s, identify(ph(T0+1, "u0"))).Contact
	r = resolve1(t, s, refusing(mergeFrom(ph(T0+2, "d1"), "u0")))
	equal(t, "identified source refuses", flags(r), "refused")
	equal(t, "no aliases", len(r.Aliases), 0)
	r = resolve1(t, s, refusing(mergeFrom(ph(T0+3, "d2"), "u0")))
	equal(t, "identified source alone refuses", flags(r), "refused")
	equal(t, "identified untouched", find(t, s, "", "u0"), []canonical.Contact{u})
	r = resolve1(t, s, refusing(ph(T0+4, "u0")))
	equal(t, "identified distinct refuses", flags(r), "refused")

	noCreate := func(o identity.ResolveOp) identity.ResolveOp {
		o.NoCreate = true
		o.NewID = uuid.Nil
		return o
	}
	r = resolve1(t, s, noCreate(mergeFrom(identify(ph(T0+5, "n1")), "n2")))
	equal(t, "no create, neither", flags(r), "")
	equal(t, "no create, nothing written", flags(resolve1(t, s, noCreate(ph(T0+6, "n1")))), "")
	r = resolve1(t, s, noCreate(mergeFrom(identify(ph(T0+7, "n1")), "d1")))
	equal(t, "no create, source links", flags(r), "found,linked")
	equal(t, "no create, source id", r.Contact.ID, anonC.ID)
	equal(t, "no create, distinct promoted", r.Contact.ExternalID, "n1")
}

// testPostHogUnset: Unset removes after Set and SetOnce, also on create and
// merge; a missing name changes nothing.
func testPostHogUnset(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	o := withOnce(withSet(ph(T0, "d1"), set("a", "1"), set("b", "2"), set("gone", "3")), set("c", "4"))
	o.Unset = []string{"gone", "never"}
	r := resolve1(t, s, o)
	equal(t, "create", string(r.Contact.Properties), `{"a":1,"b":2,"c":4}`)
	o = withOnce(withSet(ph(T0+1, "d1"), set("x", "1")), set("y", "2"))
	o.Unset = []string{"a", "x", "y", "missing"}
	r = resolve1(t, s, o)
	equal(t, "unset beats set and set once", string(r.Contact.Properties), `{"b":2,"c":4}`)
	// Unset on a merge applies to the merged properties.
	resolve1(t, s, withSet(ph(T0+2, "a2"), set("from_source", "1"), set("keep", "1")))
	o = mergeFrom(ph(T0+3, "d1"), "a2")
	o.Unset = []string{"from_source", "b"}
	r = resolve1(t, s, o)
	equal(t, "merge flags", flags(r), "found,linked,merged")
	equal(t, "merge", string(r.Contact.Properties), `{"c":4,"keep":1}`)
	o = ph(T0+4, "d1")
	o.Unset = []string{"c", "keep"}
	equal(t, "all gone", string(resolve1(t, s, o).Contact.Properties), `{}`)
	// Native ops can unset too.
	o = op(T0+5, anon("d1"))
	o.Unset = []string{"nothing"}
	equal(t, "native", string(resolve1(t, s, o).Contact.Properties), `{}`)
}

// testPostHogValidation: MergeFrom and Identify need a Distinct; a blank
// Distinct counts as absent.
func testPostHogValidation(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	o1 := op(T0, mail("v@x"))
	o1.MergeFrom = "a1"
	o2 := op(T0, mail("v@x"))
	o2.Identify = true
	o3 := op(T0)
	o3.Distinct = "  "
	o4 := ph(T0, " d1 ")
	o5 := op(T0, mail("w@x"))
	o5.MergeDangerously = true // without MergeFrom: no effect
	ops := []identity.ResolveOp{o1, o2, o3, o4, o5}
	res := make([]identity.ResolveResult, len(ops))
	if err := s.Resolve(ctx(t), ops, res); err != nil {
		t.Fatal(err)
	}
	if res[0].Err == nil || res[1].Err == nil {
		t.Errorf("MergeFrom / Identify without Distinct: %v, %v; want errors", res[0].Err, res[1].Err)
	}
	if !errors.Is(res[2].Err, identity.ErrNoKeys) {
		t.Errorf("blank Distinct: %v, want ErrNoKeys", res[2].Err)
	}
	equal(t, "distinct trimmed", res[3].Contact.AnonymousID, "d1")
	equal(t, "dangerously alone", flags(res[4]), "found,created")
	equal(t, "nothing else written", len(find(t, s, "v@x", "")), 0)
}

// testPostHogIdempotencyAndVersions: claims and versions work as for native ops.
func testPostHogIdempotencyAndVersions(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	a := resolve1(t, s, withIdem(ph(T0, "a1"), "e1", 0))
	equal(t, "anonymous event", flags(a), "found,created")
	u := resolve1(t, s, identify(ph(T0+1, "u1")))
	o := withIdem(mergeFrom(identify(ph(T0+2, "u1")), "a1"), "e2", 0)
	m := resolve1(t, s, o)
	equal(t, "identify", flags(m), "found,linked,merged")
	if m.Contact.Version <= u.Contact.Version || u.Contact.Version <= a.Contact.Version {
		t.Errorf("versions not increasing: %d %d %d", a.Contact.Version, u.Contact.Version, m.Contact.Version)
	}
	for _, l := range m.Losers {
		equal(t, "loser version", l.Version, m.Contact.Version)
	}
	for _, al := range m.Aliases {
		equal(t, "alias version", al.Version, m.Contact.Version)
	}
	// A replay is a duplicate and finds the merged contact.
	r := resolve1(t, s, o)
	equal(t, "replay", flags(r), "found,linked,duplicate")
	equal(t, "replay id", r.Contact.ID, u.Contact.ID)
	equal(t, "replay anonymous event", flags(resolve1(t, s, withIdem(ph(T0+3, "a1"), "e1", 0))), "found,linked,duplicate")
	// A refused merge still claims; a RefuseIdentified refusal does not.
	resolve1(t, s, identify(ph(T0+4, "u2")))
	r = resolve1(t, s, withIdem(mergeFrom(identify(ph(T0+5, "u1")), "u2"), "e3", 0))
	equal(t, "merge refused", flags(r), "found,linked,mergeRefused")
	equal(t, "refused claims", flags(resolve1(t, s, withIdem(ph(T0+6, "u1"), "e3", 0))), "found,linked,duplicate")
	o = withIdem(mergeFrom(ph(T0+7, "z1"), "u2"), "e4", 0)
	o.RefuseIdentified = true
	equal(t, "refused identified", flags(resolve1(t, s, o)), "refused")
	o.RefuseIdentified = false
	equal(t, "key still free", flags(resolve1(t, s, o)), "found,linked")
}

// testPostHogRestore: state built by PostHog ops restores from its rows.
func testPostHogRestore(t *testing.T, newStore func(*testing.T) identity.Store) {
	src := newStore(t)
	rec := newRecorder()
	rs := func(o identity.ResolveOp) identity.ResolveResult { return rec.result(resolve1(t, src, o)) }
	rs(withSet(ph(T0, "a1"), set("s", "1")))
	rs(withSet(identify(ph(T0+1, "u1")), set("t", "1")))
	rs(mergeFrom(identify(ph(T0+2, "u1")), "a1"))
	rs(identify(ph(T0+3, "u2")))
	rs(mergeFrom(identify(ph(T0+4, "u1")), "u2")) // refused
	rs(dangerously(mergeFrom(identify(ph(T0+5, "u3")), "u2")))
	o := mergeFrom(ph(T0+6, "a2"), "a3")
	o.Unset = []string{"nothing"}
	rs(o)
	snap := rec.snapshot()
	top := maxVersion(snap)

	dst := newStore(t)
	if err := dst.Restore(ctx(t), snap); err != nil {
		t.Fatalf("restore: %v", err)
	}
	for _, pair := range [][2]string{{"u1", "a1"}, {"u3", "u2"}, {"a2", "a3"}} {
		var got [2]canonical.Contact
		for i, d := range pair {
			o := ph(T0+10, d)
			o.NoCreate = true
			r := resolve1(t, dst, o)
			equal(t, "restored "+d, flags(r), "found,linked")
			if r.Contact.Version <= top {
				t.Errorf("version after restore %d not above restored %d", r.Contact.Version, top)
			}
			got[i] = r.Contact
		}
		equal(t, "same contact "+pair[0]+" "+pair[1], got[0].ID, got[1].ID)
	}
	equal(t, "u1 apart from u3", find(t, dst, "", "u1")[0].ID != find(t, dst, "", "u3")[0].ID, true)
	equal(t, "merged properties", string(find(t, dst, "", "u1")[0].Properties), `{"s":1,"t":1}`)
}

// testPostHogConcurrentIdentify: many concurrent $identify events for one
// anonymous id into one user id make one contact.
func testPostHogConcurrentIdentify(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	res := race(t, s, 50, func(i int) identity.ResolveOp {
		return withSet(mergeFrom(identify(ph(T0+int64(i), "user")), "anon"), set("n", strconv.Itoa(i)))
	})
	created := 0
	for i, r := range res {
		if r.Created {
			created++
		}
		if r.Merged || r.MergeRefused {
			t.Errorf("goroutine %d: %s", i, flags(r))
		}
		if r.Contact.ID != res[0].Contact.ID {
			t.Errorf("goroutine %d got contact %s, goroutine 0 got %s", i, r.Contact.ID, res[0].Contact.ID)
		}
	}
	equal(t, "created", created, 1)
	got := find(t, s, "", "user")
	if len(got) != 1 {
		t.Fatalf("find: %v, want one contact", ids(got))
	}
	equal(t, "columns", []string{got[0].ExternalID, got[0].AnonymousID}, []string{"user", "anon"})
}

// testPostHogConcurrentMixed: anonymous events, identify-only events and
// $identify merges for one pair race; whatever the interleaving, one live
// contact holds both ids, and if two were created they merged exactly once.
func testPostHogConcurrentMixed(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	res := race(t, s, 60, func(i int) identity.ResolveOp {
		switch i % 3 {
		case 0:
			return ph(T0, "anon")
		case 1:
			return identify(ph(T0, "user"))
		}
		return mergeFrom(identify(ph(T0, "user")), "anon")
	})
	created, merged := 0, 0
	for _, r := range res {
		if r.Created {
			created++
		}
		if r.Merged {
			merged++
		}
		if r.MergeRefused {
			t.Errorf("merge refused: %+v", r)
		}
	}
	if created < 1 || created > 2 || merged != created-1 {
		t.Errorf("created %d, merged %d: want 1 and 0, or 2 and 1", created, merged)
	}
	var got [2]uuid.UUID
	for i, d := range []string{"user", "anon"} {
		o := ph(T0+1, d)
		o.NoCreate = true
		r := resolve1(t, s, o)
		equal(t, "resolves "+d, flags(r), "found,linked")
		got[i] = r.Contact.ID
	}
	equal(t, "one contact", got[0], got[1])
	equal(t, "find", len(find(t, s, "", "user")), 1)
}
