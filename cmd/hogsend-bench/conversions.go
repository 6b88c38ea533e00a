package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/tiktokfake"
)

// runConversions measures conversion delivery against the strict TikTok fake
// (batches of up to 1,000): how fast a full queue is delivered, and how long
// the queue takes to drain after the platform was down for outage while
// traffic kept coming. Default delivery settings (backoff up to 30 s,
// breaker probing every 10 s).
func runConversions(env *benchEnv, n int, outage time.Duration) error {
	defer env.close()
	fake := tiktokfake.New()
	defer fake.Close()
	cfg := filepath.Join(env.TempDir(), "hogsend.yaml")
	yaml := fmt.Sprintf(`
conversions:
  destinations:
    tiktok: {pixel_code: %q, access_token: %q, base_url: %q}
  rules:
    - id: signup
      trigger: {event: signed_up}
      value: {source: fixed, amount: 10, currency: EUR}
      destinations: {tiktok: CompleteRegistration}
`, tiktokfake.DefaultPixelCode, tiktokfake.DefaultAccessToken, fake.URL)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		return err
	}
	st, err := startStack(env, false, "HOGSEND_CONFIG="+cfg, "HOGSEND_POSTHOG_SECRET_TOKENS="+benchSecretToken)
	if err != nil {
		return err
	}
	down := fakeads.Fault{Status: 503, Body: `{"code":50000,"message":"unavailable"}`}

	// 1. Delivery of a full queue: hold the platform down while n
	// conversions are derived and queued, then let it answer.
	fmt.Printf("\nconversions: queueing %d signups (posthog-node /batch/, 50 a request) while the platform is down …\n", n)
	fake.Script.Down(down)
	start := time.Now()
	if err := sendSignups(st.base, 0, n); err != nil {
		return err
	}
	if err := waitMetric(st.base, "hogsend_conversions_derived_total", int64(n), 5*time.Minute); err != nil {
		return err
	}
	derived := time.Since(start)
	fake.Script.Up()
	up := time.Now()
	if err := waitLedger(fake.Ledger, n, 5*time.Minute); err != nil {
		return err
	}
	done := time.Now()
	drain := done.Sub(up)
	first := firstAccepted(fake.Requests(), up)
	fmt.Println("conversions to the TikTok fake (strict validation, dedup ledger), default delivery settings")
	fmt.Printf("  derived and queued: %d conversions %.1fs after the first event (%.0f/s, ingest included)\n", n, derived.Seconds(), float64(n)/derived.Seconds())
	fmt.Printf("  delivered:          %d in %.2fs after the platform came back; %.0f conversions/s from the first accepted request to the last counted\n",
		fake.Ledger.Unique(), drain.Seconds(), float64(n)/done.Sub(first).Seconds())

	// 2. A platform outage under steady traffic.
	fmt.Printf("\nconversions: %s platform outage while signups keep arriving (%d/s) …\n", outage, 200)
	fake.Script.Down(down)
	outageStart := time.Now()
	sent := n
	for time.Since(outageStart) < outage {
		tick := time.Now()
		if err := sendSignups(st.base, sent, 200); err != nil {
			return err
		}
		sent += 200
		time.Sleep(time.Second - time.Since(tick))
	}
	fake.Script.Up()
	up = time.Now()
	if err := waitLedger(fake.Ledger, sent, 5*time.Minute); err != nil {
		return err
	}
	fmt.Printf("  drained:            %d conversions queued during the outage, all delivered %.1fs after the platform came back\n", sent-n, time.Since(up).Seconds())
	fmt.Printf("  platform ledger:    %d unique, %d duplicates (re-sent with the same event_id)\n", fake.Ledger.Unique(), fake.Ledger.Duplicates())
	if fake.Ledger.Unique() != sent {
		return fmt.Errorf("platform counted %d conversions, want %d", fake.Ledger.Unique(), sent)
	}
	return nil
}

// benchSecretToken is the server-side capture token posthog-node is given:
// only its events are server-originated for the conversion rules.
const benchSecretToken = "phs_bench_secret"

// sendSignups posts signed_up events from posthog-node for people
// offset…offset+n, each with an email and a ttclid, 50 per request.
func sendSignups(base string, offset, n int) error {
	const per = 50
	var wg sync.WaitGroup
	var failed atomic.Value
	next := atomic.Int64{}
	next.Store(int64(offset))
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				from := int(next.Add(per)) - per
				if from >= offset+n {
					return
				}
				var b bytes.Buffer
				b.WriteString(`{"api_key":"` + benchSecretToken + `","batch":[`)
				for i := from; i < min(from+per, offset+n); i++ {
					if i > from {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, `{"event":"signed_up","distinct_id":"bench-%d","properties":{"$lib":"posthog-node","ttclid":"tt-%d","$set":{"email":"bench-%d@example.com"}}}`, i, i, i)
				}
				b.WriteString(`]}`)
				resp, err := http.Post(base+"/batch/", "application/json", &b)
				if err != nil {
					failed.Store(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Store(fmt.Errorf("/batch/: status %d", resp.StatusCode))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	return nil
}

func waitMetric(base, name string, want int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		v, err := metricValue(base, name)
		if err == nil && v >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s = %d after %s, want %d (%v)", name, v, timeout, want, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitLedger(l *fakeads.Ledger, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for l.Unique() < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("platform counted %d of %d conversions after %s", l.Unique(), want, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// firstAccepted is when the first request after since was accepted (200).
func firstAccepted(reqs []fakeads.Request, since time.Time) time.Time {
	first := since
	for _, r := range reqs {
		if r.Status == 200 && !r.At.Before(since) && (first == since || r.At.Before(first)) {
			first = r.At
		}
	}
	return first
}
