package abuse

import (
	"context"
	"net"
	"sync"
	"time"
)

// Attack is one kind of hostile traffic.
type Attack struct {
	Name string
	// Group names the bench phase the attack runs in; the bench runs each
	// group's attacks together beside legitimate load.
	Group string
	// Source is the loopback address the attack dials from.
	Source net.IP
	run    func(ctx context.Context, t Target, src net.IP, r *Result)
	// prepare builds the attack's payloads; nil when it has none to build.
	prepare func(t Target)
}

// Prepare builds the attack's payloads ahead of its first Run, so that a
// bench measures the attack and not the CPU its generator spends (an lz64
// bomb takes seconds to build); Run builds them when Prepare was not called.
func (a Attack) Prepare(t Target) {
	if a.prepare != nil {
		a.prepare(t)
	}
}

// Run sends the attack once and tallies what came back. Cancelling ctx
// stops it and closes its connections.
func (a Attack) Run(ctx context.Context, t Target) *Result {
	r := newResult(a.Name)
	start := time.Now()
	a.run(ctx, t, a.Source, r)
	r.Took = time.Since(start)
	return r
}

// Attacks lists every attack, each with its own source address. Payloads
// are sized from t.Limits and built on first use.
func Attacks(t Target) []Attack {
	var list []Attack
	for _, group := range [][]Attack{
		connectionAttacks(t), headerAttacks(), bombAttacks(t), hugeAttacks(t),
		randomAttacks(), takeoverAttacks(), authAttacks(), panicAttacks(),
	} {
		list = append(list, group...)
	}
	for i := range list {
		list[i].Source = source(i)
	}
	return list
}

// Group is the attacks of one Group, in the order Attacks lists them.
type Group struct {
	Name    string
	Attacks []Attack
}

// Groups gathers attacks by Group, in the order the groups first appear.
func Groups(attacks []Attack) []Group {
	var out []Group
	index := map[string]int{}
	for _, a := range attacks {
		i, ok := index[a.Group]
		if !ok {
			i = len(out)
			index[a.Group] = i
			out = append(out, Group{Name: a.Group})
		}
		out[i].Attacks = append(out[i].Attacks, a)
	}
	return out
}

// fanOut runs f(0) … f(n-1) concurrently and waits for them.
func fanOut(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

// alias is src moved to another 127.x network, for attacks that need more
// connections than one address may hold.
func alias(src net.IP, k int) net.IP {
	ip := src.To4()
	return net.IPv4(127, ip[1]+byte(16*k), ip[2], ip[3])
}
