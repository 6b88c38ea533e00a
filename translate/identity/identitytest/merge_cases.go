package identitytest

import (
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

func testMergeSurvivorRule(t *testing.T, newStore func(*testing.T) identity.Store) {
	const (
		lowID  = "00000000-0000-7000-8000-000000000001"
		highID = "00000000-0000-7000-8000-000000000002"
	)
	cases := []struct {
		name    string
		setup   []identity.ResolveOp // contacts, in creation order
		request identity.ResolveOp
		// survivor and losers as indexes into setup, losers in rank order
		survivor int
		losers   []int
	}{
		{
			name:     "external id beats earlier first_seen",
			setup:    []identity.ResolveOp{op(T0, mail("a@x")), op(T0+5, ext("u"))},
			request:  op(T0+10, ext("u"), mail("a@x")),
			survivor: 1, losers: []int{0},
		},
		{
			name:     "earlier first_seen wins without external ids",
			setup:    []identity.ResolveOp{op(T0+5, anon("n")), op(T0, mail("e@x"))},
			request:  op(T0+10, mail("e@x"), anon("n")),
			survivor: 1, losers: []int{0},
		},
		{
			name:     "lower id breaks a first_seen tie",
			setup:    []identity.ResolveOp{withID(op(T0, anon("n")), highID), withID(op(T0, mail("e@x")), lowID)},
			request:  op(T0+10, mail("e@x"), anon("n")),
			survivor: 1, losers: []int{0},
		},
		{
			name:     "lower id wins whichever key matched it",
			setup:    []identity.ResolveOp{withID(op(T0, anon("n")), lowID), withID(op(T0, mail("e@x")), highID)},
			request:  op(T0+10, mail("e@x"), anon("n")),
			survivor: 0, losers: []int{1},
		},
		{
			name:     "two identified contacts still merge, earlier wins",
			setup:    []identity.ResolveOp{op(T0+5, ext("u1")), op(T0, ext("u2"), mail("b@x"))},
			request:  op(T0+10, ext("u1"), mail("b@x")),
			survivor: 1, losers: []int{0},
		},
		{
			name:     "three contacts",
			setup:    []identity.ResolveOp{op(T0+9, ext("u")), op(T0+1, anon("n")), op(T0, mail("e@x"))},
			request:  op(T0+10, ext("u"), mail("e@x"), anon("n")),
			survivor: 0, losers: []int{2, 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			made := make([]canonical.Contact, len(tc.setup))
			for i, o := range tc.setup {
				made[i] = resolve1(t, s, o).Contact
			}
			r := resolve1(t, s, tc.request)
			equal(t, "flags", flags(r), "found,linked,merged")
			sv := made[tc.survivor]
			equal(t, "survivor", r.Contact.ID, sv.ID)
			var wantLosers []uuid.UUID
			first := sv.FirstSeenAt
			for _, i := range tc.losers {
				wantLosers = append(wantLosers, made[i].ID)
				first = min(first, made[i].FirstSeenAt)
			}
			equal(t, "losers", ids(r.Losers), wantLosers)
			now := tc.request.Now
			equal(t, "survivor times", []int64{r.Contact.FirstSeenAt, r.Contact.LastSeenAt, r.Contact.UpdatedAt, r.Contact.DeletedAt},
				[]int64{first, now, now, 0})
			for _, l := range r.Losers {
				equal(t, "loser deleted", []int64{l.DeletedAt, l.UpdatedAt}, []int64{now, now})
				equal(t, "loser version", l.Version, r.Contact.Version)
			}
			for _, a := range r.Aliases {
				equal(t, "alias target", a.ContactID, sv.ID)
			}
			// Every key of every contact now finds the survivor, alone.
			for _, k := range tc.request.Keys {
				r2 := resolve1(t, s, op(now+1, k))
				equal(t, "resolve "+k.Value, flags(r2), "found,linked")
				equal(t, "resolve id "+k.Value, r2.Contact.ID, sv.ID)
			}
			got := find(t, s, "e@x", "u")
			if len(got) > 1 || (len(got) == 1 && got[0].ID != sv.ID) {
				t.Errorf("find after merge: %v", ids(got))
			}
		})
	}
}

// testMergeAliases: loser keys move to the survivor with reason merge; a loser
// known only by its uuid gets external:<uuid>.
func testMergeAliases(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	a := resolve1(t, s, op(T0, mail("a@x"))).Contact
	// Empty key values count as absent.
	equal(t, "empty keys ignored", resolve1(t, s, op(T0+1, mail("a@x"), ext(" "), anon(""))).Contact.ExternalID, "")
	b := resolve1(t, s, op(T0+2, ext("u"))).Contact
	r := resolve1(t, s, op(T0+10, ext("u"), mail("a@x")))
	v := r.Contact.Version
	equal(t, "aliases", r.Aliases, []canonical.Alias{
		alias("email", "a@x", b.ID, a.ID, canonical.ReasonMerge, v, T0+10),
		alias("external", a.ID.String(), b.ID, a.ID, canonical.ReasonMerge, v, T0+10),
	})
	equal(t, "survivor email from request", r.Contact.Email, "a@x")
	equal(t, "survivor external", r.Contact.ExternalID, "u")
	// History stored under the loser's uuid still resolves to the survivor.
	r2 := resolve1(t, s, op(T0+11, ext(a.ID.String())))
	equal(t, "loser uuid", flags(r2), "found,linked")
	equal(t, "loser uuid id", r2.Contact.ID, b.ID)
	equal(t, "find loser email", ids(find(t, s, "a@x", "")), []uuid.UUID{b.ID})
	equal(t, "find loser uuid", ids(find(t, s, "", a.ID.String())), []uuid.UUID{b.ID})
}

func testMergeIdentityColumns(t *testing.T, newStore func(*testing.T) identity.Store) {
	t.Run("request value beats loser value", func(t *testing.T) {
		s := newStore(t)
		a := resolve1(t, s, op(T0, mail("a@x"), anon("n1"))).Contact
		b := resolve1(t, s, op(T0+1, ext("u"))).Contact
		r := resolve1(t, s, op(T0+10, ext("u"), mail("a@x"), anon("n2")))
		c := r.Contact
		equal(t, "survivor", c.ID, b.ID)
		equal(t, "columns", []string{c.ExternalID, c.Email, c.AnonymousID}, []string{"u", "a@x", "n2"})
		v := c.Version
		equal(t, "aliases", r.Aliases, []canonical.Alias{
			alias("anonymous", "n1", b.ID, a.ID, canonical.ReasonMerge, v, T0+10),
			alias("email", "a@x", b.ID, a.ID, canonical.ReasonMerge, v, T0+10),
			alias("anonymous", "n2", b.ID, uuid.Nil, canonical.ReasonPromote, v, T0+10),
		})
		equal(t, "old anonymous id", resolve1(t, s, op(T0+11, anon("n1"))).Contact.ID, b.ID)
	})
	t.Run("loser value fills a gap", func(t *testing.T) {
		s := newStore(t)
		o := op(T0, mail("a@x"), anon("n1"))
		o.Source = "web"
		a := resolve1(t, s, o).Contact
		b := resolve1(t, s, op(T0+1, ext("u"))).Contact
		r := resolve1(t, s, op(T0+10, ext("u"), mail("a@x")))
		c := r.Contact
		equal(t, "survivor", c.ID, b.ID)
		equal(t, "columns", []string{c.ExternalID, c.Email, c.AnonymousID, c.Source}, []string{"u", "a@x", "n1", "web"})
		equal(t, "first seen", c.FirstSeenAt, a.FirstSeenAt)
		equal(t, "created kept", c.CreatedAt, b.CreatedAt)
	})
	t.Run("survivor columns are kept", func(t *testing.T) {
		s := newStore(t)
		a := resolve1(t, s, op(T0, mail("a@x"), ext("u1"))).Contact
		resolve1(t, s, op(T0+1, mail("b@x"), ext("u2")))
		r := resolve1(t, s, op(T0+10, ext("u2"), mail("a@x")))
		equal(t, "survivor", r.Contact.ID, a.ID)
		equal(t, "columns", []string{r.Contact.ExternalID, r.Contact.Email}, []string{"u1", "a@x"})
		equal(t, "u2 now", resolve1(t, s, op(T0+11, ext("u2"))).Contact.ID, a.ID)
		equal(t, "b@x now", resolve1(t, s, op(T0+11, mail("b@x"))).Contact.ID, a.ID)
	})
}

// testMergeProperties: loser first, survivor on top, the patch last; the
// discord object merges one level.
func testMergeProperties(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	a := resolve1(t, s, withSet(op(T0, mail("a@x")),
		set("a", `"L"`), set("b", `"L"`), set("only_l", "1"), set("discord", `{"id":"1","name":"l"}`))).Contact
	resolve1(t, s, withSet(op(T0+1, ext("u")),
		set("a", `"S"`), set("only_s", "true"), set("discord", `{"name":"s"}`)))
	o := withSet(op(T0+10, ext("u"), mail("a@x")), set("b", `"P"`), set("c", `"P"`), set("only_s", "null"))
	o = withOnce(o, set("a", `"O"`), set("d", `"O"`))
	r := resolve1(t, s, o)
	equal(t, "properties", string(r.Contact.Properties),
		`{"a":"S","b":"P","c":"P","d":"O","discord":{"id":"1","name":"s"},"only_l":1}`)
	equal(t, "loser properties unchanged", string(r.Losers[0].Properties), string(a.Properties))
	equal(t, "find", string(find(t, s, "a@x", "")[0].Properties), string(r.Contact.Properties))
}
