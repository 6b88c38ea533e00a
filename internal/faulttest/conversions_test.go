package faulttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/linkedinfake"
)

// A SIGKILL while the conversion queue is being delivered loses nothing: the
// restarted proxy re-sends what was not confirmed with the same dedup ids,
// so the platform (deduplicating on eventId like LinkedIn) counts every
// conversion exactly once.
func TestSIGKILLMidConversionQueue(t *testing.T) {
	fake := linkedinfake.New()
	t.Cleanup(fake.Close)
	// Small batches on a slow platform: the queue drains over seconds.
	fake.Script.SetLatency(40 * time.Millisecond)
	cfgPath := signupConfig(t, fake.URL, strconv.Quote(linkedinfake.DefaultToken), ", max_batch: 5")
	s := newStack(t, "HOGSEND_CONFIG="+cfgPath)
	p := s.start()

	const n = 400
	load := newLoad(s.base, s.key, "signed.up", 8)
	load.maxPerWorker = n / 8
	load.emailed = true
	outcomes := load.run().wait()
	acked := 0
	for _, o := range outcomes {
		if o.acked() {
			acked++
		}
	}
	if acked != n {
		t.Fatalf("acknowledged %d of %d: %s", acked, n, summary(outcomes))
	}
	deadline := time.Now().Add(60 * time.Second)
	for fake.Ledger.Unique() < n/4 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d conversions delivered before the kill", fake.Ledger.Unique())
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.kill()
	before := fake.Ledger.Unique()
	t.Logf("killed with %d of %d conversions counted by the platform", before, n)
	if before >= n {
		t.Fatalf("the queue drained before the kill; nothing was tested")
	}

	fake.Script.SetLatency(0)
	restart := time.Now()
	s.start()
	deadline = time.Now().Add(90 * time.Second)
	for fake.Ledger.Unique() < n {
		if time.Now().After(deadline) {
			t.Fatalf("after restart: %d of %d conversions counted", fake.Ledger.Unique(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("restart → all %d counted in %v; %d re-sent duplicates deduplicated by the platform",
		n, time.Since(restart).Round(time.Millisecond), fake.Ledger.Duplicates())

	// Exactly the expected conversions: one per stored event, each under
	// sha256(contact:rule:event).
	c := openCH(t, s.ch)
	rows := c.mustQuery(`SELECT toString(id), toString(contact_id) FROM hogsend.user_events FINAL WHERE event = 'signed.up'`)
	if len(rows) != n {
		t.Fatalf("stored %d events, want %d", len(rows), n)
	}
	var want []string
	for _, r := range rows {
		want = append(want, "urn:lla:llaPartnerConversion:77|"+conversions.DedupID(r[1], "signup", r[0]))
	}
	got := fake.Ledger.Keys()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("platform counted %d keys, want %d; first got %q want %q", len(got), len(want), got[:min(3, len(got))], want[:3])
	}
	// Settled: everything derived and the queue delivered, so nothing more
	// can reach the platform.
	deadline = time.Now().Add(30 * time.Second)
	for !conversionsIdle(s.base, "linkedin") {
		if time.Now().After(deadline) {
			t.Fatalf("conversions backlog not empty within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if u := fake.Ledger.Unique(); u != n {
		t.Fatalf("platform counted %d after settling, want %d", u, n)
	}
}

// `hogsend-proxy conversions replay` re-sends a dead letter while the server
// runs, with the conversion's original dedup id.
func TestConversionsReplayCommand(t *testing.T) {
	fake := linkedinfake.New()
	t.Cleanup(fake.Close)
	cfgPath := signupConfig(t, fake.URL, `"${LI_TOKEN}"`, "")
	s := newStack(t, "HOGSEND_CONFIG="+cfgPath, "LI_TOKEN="+linkedinfake.DefaultToken)
	s.start()
	fake.Script.Push(linkedinfake.Unprocessable("conversionHappenedAt is too old"))
	load := newLoad(s.base, s.key, "signed.up", 1)
	load.maxPerWorker = 1
	load.emailed = true
	if out := load.run().wait(); len(out) != 1 || !out[0].acked() {
		t.Fatalf("event not acknowledged: %s", summary(out))
	}
	c := openCH(t, s.ch)
	deadline := time.Now().Add(30 * time.Second)
	for c.count("SELECT count() FROM hogsend.conversion_dead_letters FINAL WHERE replayed_at = toDateTime(0)") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if fake.Ledger.Unique() != 0 {
		t.Fatalf("counted %d before the replay", fake.Ledger.Unique())
	}
	replay := func(args ...string) (string, error) {
		cmd := exec.Command(s.bin, append([]string{"conversions", "replay"}, args...)...)
		cmd.Env = append(os.Environ(), s.env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := replay("--destination", "meta"); err == nil || !strings.Contains(out, `--destination "meta" is not configured (configured: linkedin)`) {
		t.Fatalf("unknown destination: %v\n%s", err, out)
	}
	out, err := replay("--destination", "linkedin")
	if err != nil || !strings.Contains(out, "linkedin: 1 replayed, 1 delivered, 0 refused again") {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	rows := c.mustQuery(`SELECT toString(id), toString(contact_id) FROM hogsend.user_events FINAL WHERE event = 'signed.up'`)
	want := "urn:lla:llaPartnerConversion:77|" + conversions.DedupID(rows[0][1], "signup", rows[0][0])
	if keys := fake.Ledger.Keys(); len(keys) != 1 || keys[0] != want {
		t.Fatalf("ledger %q, want %q", keys, want)
	}
	if n := c.count("SELECT count() FROM hogsend.conversion_dead_letters FINAL WHERE replayed_at = toDateTime(0)"); n != 0 {
		t.Fatalf("%d dead letters left after the replay", n)
	}
	if out, err := replay(); err != nil || !strings.Contains(out, "linkedin: 0 replayed") {
		t.Fatalf("second replay: %v\n%s", err, out)
	}
}

// conversionsIdle reports whether the proxy's deriver has committed the whole
// spool and the destination's queue is delivered.
func conversionsIdle(base, destination string) bool {
	derived, err1 := metric(base, `hogsend_spool_backlog_bytes{consumer="conversions"}`)
	queued, err2 := metric(base, `hogsend_conversion_queue_bytes{destination="`+destination+`"}`)
	return err1 == nil && err2 == nil && derived == 0 && queued == 0
}

// signupConfig writes a config converting signed.up to the LinkedIn fake at
// url; token is the access_token's YAML value, destExtra more settings of
// the destination.
func signupConfig(t *testing.T, url, token, destExtra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hogsend.yaml")
	yaml := fmt.Sprintf(`
conversions:
  destinations:
    linkedin: {conversion_urn: "urn:lla:llaPartnerConversion:77", access_token: %s, version: "202607", base_url: %q%s}
  delivery: {retry_initial: 50ms, retry_max: 500ms}
  rules:
    - id: signup
      trigger: {event: signed.up}
      destinations: {linkedin: signup}
`, token, url, destExtra)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
