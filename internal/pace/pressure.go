package pace

import (
	"runtime/metrics"
	"sync"
)

// Verdict is a judgement of the process's CPU pressure.
type Verdict int

const (
	Hold      Verdict = iota // between the thresholds: keep the limits
	Saturated                // short of CPU: deliveries yield
	Calm                     // CPU to spare: deliveries may speed up
)

// Pressure judges whether the process is short of CPU.
type Pressure interface {
	Judge() Verdict
}

// schedLatencies is the Go scheduler's histogram of how long runnable
// goroutines waited for a CPU.
const schedLatencies = "/sched/latencies:seconds"

// DefaultSaturation is the mean wait for a CPU at or above which the
// process counts as saturated, and DefaultCalm the one below which it has
// CPU to spare: measured on the bench's two cores, ingest at its peak keeps
// the wait at 220–750 µs, light ingest with a full-speed drain under
// 100 µs (docs/operations.md § Delivery pacing).
const (
	DefaultSaturation = 200e-6
	DefaultCalm       = 100e-6
)

// Scheduler judges CPU pressure from the Go scheduler's run-queue waits
// since its previous judgement. Safe for one caller at a time.
type Scheduler struct {
	mu               sync.Mutex
	sample           []metrics.Sample
	prev             []uint64
	saturation, calm float64
}

// NewScheduler judges the mean wait for a CPU, in seconds, against
// saturation and calm (DefaultSaturation and DefaultCalm when 0).
func NewScheduler(saturation, calm float64) *Scheduler {
	if saturation <= 0 {
		saturation = DefaultSaturation
	}
	if calm <= 0 || calm > saturation {
		calm = min(DefaultCalm, saturation)
	}
	s := &Scheduler{sample: []metrics.Sample{{Name: schedLatencies}}, saturation: saturation, calm: calm}
	s.MeanWait()
	return s
}

// Judge judges the mean wait since the last call.
func (s *Scheduler) Judge() Verdict {
	switch w := s.MeanWait(); {
	case w >= s.saturation:
		return Saturated
	case w < s.calm:
		return Calm
	}
	return Hold
}

// MeanWait is the mean time, in seconds, goroutines waited for a CPU since
// the previous call; 0 when none was scheduled.
func (s *Scheduler) MeanWait() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	metrics.Read(s.sample)
	if s.sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0 // a runtime without the metric: never saturated
	}
	h := s.sample[0].Value.Float64Histogram()
	var n uint64
	var sum float64
	for i, c := range h.Counts {
		d := c
		if len(s.prev) == len(h.Counts) {
			d -= s.prev[i]
		}
		n += d
		sum += float64(d) * bucketMid(h.Buckets[i], h.Buckets[i+1])
	}
	s.prev = append(s.prev[:0], h.Counts...)
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// bucketMid stands for a bucket's waits; the open-ended ones take their
// finite bound.
func bucketMid(lo, hi float64) float64 {
	switch {
	case lo < 0:
		return 0
	case hi > 1e9:
		return lo
	case lo <= 0:
		return hi / 2
	}
	return (lo + hi) / 2
}

// whileBusy is a Pressure that counts only while the foreground is busy.
type whileBusy struct {
	p    Pressure
	busy func() bool
}

// WhileBusy judges by p while busy reports the foreground (ingest)
// waiting on the CPU, and calm otherwise: delivery then has the CPU
// ingest does not want, even if it fills it itself.
func WhileBusy(p Pressure, busy func() bool) Pressure { return whileBusy{p: p, busy: busy} }

func (w whileBusy) Judge() Verdict {
	v := w.p.Judge() // keeps the scheduler's window current
	if !w.busy() {
		return Calm
	}
	return v
}
