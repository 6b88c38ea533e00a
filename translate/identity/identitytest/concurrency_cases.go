package identitytest

import (
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// race runs n resolves of opFor(i) at once (released together) and returns
// their results in goroutine order.
func race(t *testing.T, s identity.Store, n int, opFor func(i int) identity.ResolveOp) []identity.ResolveResult {
	t.Helper()
	res := make([]identity.ResolveResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ops := []identity.ResolveOp{opFor(i)}
			<-start
			errs[i] = s.Resolve(ctx(t), ops, res[i:i+1])
			if errs[i] == nil {
				errs[i] = res[i].Err
			}
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	return res
}

func testConcurrentCreate(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	res := race(t, s, 50, func(int) identity.ResolveOp { return op(T0, mail("race@x")) })
	created := 0
	id := res[0].Contact.ID
	for i, r := range res {
		if r.Created {
			created++
		}
		if r.Contact.ID != id {
			t.Errorf("goroutine %d got contact %s, goroutine 0 got %s", i, r.Contact.ID, id)
		}
	}
	equal(t, "created", created, 1)
	equal(t, "find", ids(find(t, s, "race@x", "")), []uuid.UUID{id})
}

// testConcurrentMerge: an email (contact A) and a user id (contact B) sent
// together from many goroutines merge exactly once.
func testConcurrentMerge(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	a := resolve1(t, s, op(T0, mail("m@x"))).Contact
	b := resolve1(t, s, op(T0+1, ext("mu"))).Contact
	res := race(t, s, 40, func(i int) identity.ResolveOp {
		switch i % 4 {
		case 0:
			return op(T0+2, mail("m@x"))
		case 1:
			return op(T0+2, ext("mu"))
		}
		return op(T0+2, ext("mu"), mail("m@x"))
	})
	merged := 0
	for i, r := range res {
		if r.Merged {
			merged++
			equal(t, "loser", ids(r.Losers), []uuid.UUID{a.ID})
		}
		if r.Created {
			t.Errorf("goroutine %d created a contact", i)
		}
		if i%4 >= 2 && r.Contact.ID != b.ID {
			t.Errorf("goroutine %d resolved to %s, want survivor %s", i, r.Contact.ID, b.ID)
		}
	}
	equal(t, "merges", merged, 1)
	equal(t, "find", ids(find(t, s, "m@x", "mu")), []uuid.UUID{b.ID})
}

// testConcurrentMixedKeys: from nothing, goroutines send the email, the user id
// or both; whatever the interleaving, one live contact holds both keys, at most
// two were ever created, and they merged exactly once if two were.
func testConcurrentMixedKeys(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	res := race(t, s, 60, func(i int) identity.ResolveOp {
		switch i % 3 {
		case 0:
			return op(T0, mail("mix@x"))
		case 1:
			return op(T0, ext("mix"))
		}
		return op(T0, ext("mix"), mail("mix@x"))
	})
	created, merged := 0, 0
	for _, r := range res {
		if r.Created {
			created++
		}
		if r.Merged {
			merged++
		}
	}
	if created < 1 || created > 2 || merged != created-1 {
		t.Errorf("created %d, merged %d: want 1 and 0, or 2 and 1", created, merged)
	}
	got := find(t, s, "mix@x", "mix")
	if len(got) != 1 {
		t.Fatalf("find: %v, want one contact", ids(got))
	}
	equal(t, "both keys", []string{got[0].Email, got[0].ExternalID}, []string{"mix@x", "mix"})
}
