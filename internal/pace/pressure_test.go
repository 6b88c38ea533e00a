package pace

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Goroutines that want more CPUs than the process has make it saturated;
// an idle process is not.
func TestSchedulerSeesCPUPressure(t *testing.T) {
	s := NewScheduler(0, 0)
	time.Sleep(50 * time.Millisecond)
	if v := s.Judge(); v != Calm {
		t.Fatalf("idle: judged %d, want calm", v)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	// Many more busy goroutines than Ps, each yielding often so that the
	// scheduler records their waits.
	for range 8 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				spin()
				runtime.Gosched()
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for s.Judge() != Saturated {
		if time.Now().After(deadline) {
			t.Fatal("16 busy goroutines per CPU never made the process saturated")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var sink uint64

func spin() {
	x := uint64(1)
	for i := range 200_000 {
		x = x*6364136223846793005 + uint64(i)
	}
	atomic.AddUint64(&sink, x)
}
