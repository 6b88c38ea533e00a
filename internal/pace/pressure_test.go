package pace

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Goroutines that want more CPUs than the process has make it saturated;
// once they stop, it is calm again. Both are awaited, not asserted on one
// window: other processes on a busy machine can stretch any single window.
func TestSchedulerSeesCPUPressure(t *testing.T) {
	s := NewScheduler(0, 0)
	stop := loadCPU(8 * runtime.GOMAXPROCS(0))
	awaitVerdict(t, s, Saturated, "16 busy goroutines per CPU never made the process saturated")
	stop()
	awaitVerdict(t, s, Calm, "the process stayed pressed after its busy goroutines stopped")
}

func TestBucketMid(t *testing.T) {
	inf := 1e300
	for _, c := range []struct{ lo, hi, want float64 }{
		{-inf, 0, 0},
		{0, 2e-6, 1e-6},
		{2e-6, 4e-6, 3e-6},
		{1, inf, 1},
	} {
		if got := bucketMid(c.lo, c.hi); got != c.want {
			t.Errorf("bucketMid(%g, %g) = %g, want %g", c.lo, c.hi, got, c.want)
		}
	}
}

func awaitVerdict(t *testing.T, s *Scheduler, want Verdict, failure string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Judge() != want {
		if time.Now().After(deadline) {
			t.Fatal(failure)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loadCPU starts n busy goroutines, each yielding often so that the
// scheduler records their waits; stop ends them.
func loadCPU(n int) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				spin()
				runtime.Gosched()
			}
		}()
	}
	return func() { done.Store(true); wg.Wait() }
}

var sink uint64

func spin() {
	x := uint64(1)
	for i := range 200_000 {
		x = x*6364136223846793005 + uint64(i)
	}
	atomic.AddUint64(&sink, x)
}
