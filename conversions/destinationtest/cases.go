package destinationtest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// testSuccess: a valid batch is delivered, each conversion counted once,
// its email hashed as the contract says (docs/contracts/ad-platforms.md
// §1.2), judged by a SHA-256 of our own, not the client's.
func testSuccess(t *testing.T, p Platform) {
	pair := p.Start(t, 0)
	batch := p.batch(0, 3)
	out := send(t, pair, batch...)
	for i, o := range out {
		if o.Class != conversions.Delivered || o.Reason != "" || o.Status/100 != 2 {
			t.Fatalf("outcome %d: %+v, want delivered with a 2xx", i, o)
		}
	}
	if n := pair.Ledger.Unique(); n != 3 {
		t.Fatalf("ledger counted %d conversions, want 3", n)
	}
	var sent []byte
	for _, r := range pair.Requests() {
		sent = append(sent, r.Body...)
	}
	for i, c := range batch {
		if d := fakeads.EmailDigest(c.User.Email); !bytes.Contains(sent, []byte(d)) {
			t.Fatalf("conversion %d: no request carries the digest %s of %q", i, d, c.User.Email)
		}
	}
}

// testDedup: the same conversion sent twice is counted once by the
// platform's dedup key.
func testDedup(t *testing.T, p Platform) {
	pair := p.Start(t, 0)
	for range 2 {
		wantClass(t, send(t, pair, p.Conversion(1)), conversions.Delivered)
	}
	if pair.Ledger.Unique() != 1 || pair.Ledger.Duplicates() != 1 {
		t.Fatalf("ledger unique %d duplicates %d, want 1 and 1", pair.Ledger.Unique(), pair.Ledger.Duplicates())
	}
	// A re-send is byte-identical, so the platform's dedup sees one event.
	reqs := pair.Requests()
	if n := len(reqs); n < 2 || !bytes.Equal(reqs[n-2].Body, reqs[n-1].Body) {
		t.Fatalf("a re-send changed the body (%d requests)", n)
	}
}

// testPartialFailure: a conversion the client refuses does not fail the
// others; it is rejected with a reason and never counted.
func testPartialFailure(t *testing.T, p Platform) {
	pair := p.Start(t, 0)
	out := send(t, pair, p.Conversion(1), p.Invalid(2), p.Conversion(3))
	if out[0].Class != conversions.Delivered || out[2].Class != conversions.Delivered {
		t.Fatalf("valid conversions not delivered: %+v", out)
	}
	if out[1].Class != conversions.Rejected || out[1].Reason == "" || out[1].WholeBatch {
		t.Fatalf("invalid conversion: %+v, want rejected alone with a reason", out[1])
	}
	if n := pair.Ledger.Unique(); n != 2 {
		t.Fatalf("ledger counted %d, want 2", n)
	}
}

// testPermanent: a refusal no retry can fix (a 4xx, or TikTok's 200 with
// an error code) is never retried.
func testPermanent(t *testing.T, p Platform) {
	pair := p.Start(t, 0)
	pair.Script.Push(p.Permanent.Fault)
	for i, o := range send(t, pair, p.Conversion(1)) {
		if o.Class != p.Permanent.Class || o.Status != p.Permanent.Fault.Status || o.Reason == "" {
			t.Fatalf("outcome %d: %+v, want %s with status %d", i, o, p.Permanent.Class, p.Permanent.Fault.Status)
		}
	}
	wantNothingCounted(t, pair)
}

// testRateLimited: a 429 is retried after the platform's Retry-After.
func testRateLimited(t *testing.T, p Platform) {
	pair := p.Start(t, 0)
	pair.Script.Push(p.RateLimited)
	for i, o := range send(t, pair, p.Conversion(1)) {
		if o.Class != conversions.Retry || o.RetryAfter != 7*time.Second || o.Status != 429 {
			t.Fatalf("outcome %d: %+v, want retry after 7s with status 429", i, o)
		}
	}
	wantNothingCounted(t, pair)
}

// testServerError: a 5xx is retried, and the retry is delivered.
func testServerError(t *testing.T, p Platform) {
	pair := p.Start(t, 0)
	pair.Script.Push(p.ServerError)
	for i, o := range send(t, pair, p.Conversion(1)) {
		if o.Class != conversions.Retry || o.Status != p.ServerError.Status {
			t.Fatalf("outcome %d: %+v, want retry with status %d", i, o, p.ServerError.Status)
		}
	}
	wantNothingCounted(t, pair)
	wantClass(t, send(t, pair, p.Conversion(1)), conversions.Delivered)
}

// testTimeout: an answer slower than the configured timeout is a retry,
// not a hang.
func testTimeout(t *testing.T, p Platform) {
	pair := p.Start(t, conversions.Timeout(50*time.Millisecond))
	pair.Script.Push(fakeads.Fault{Status: 200, Delay: time.Minute})
	out := send(t, pair, p.Conversion(1))
	if out[0].Class != conversions.Retry || out[0].Status != 0 || !strings.Contains(out[0].Reason, "deadline exceeded") {
		t.Fatalf("slow answer: %+v, want a transport retry past the deadline", out[0])
	}
}

// testNoAnswer: a platform that does not answer is a transport retry.
func testNoAnswer(t *testing.T, p Platform) {
	pair := p.Start(t, 0)
	pair.Close()
	out := send(t, pair, p.Conversion(1))
	if out[0].Class != conversions.Retry || out[0].Status != 0 || !strings.HasPrefix(out[0].Reason, "transport: ") {
		t.Fatalf("closed platform: %+v, want a transport retry", out[0])
	}
}

// testRedaction: no secret reaches a reason, whether the request got no
// answer or an error page that echoes the request URL with secrets in it.
func testRedaction(t *testing.T, p Platform) {
	pair := p.Start(t, 0)
	var echo strings.Builder
	for _, s := range p.Secrets {
		fmt.Fprintf(&echo, "https://platform.example/x?access_token=%s&api_secret=%s ", s, s)
	}
	pair.Script.Push(fakeads.Fault{Status: 502, Body: "<html>bad gateway for " + echo.String() + "</html>"})
	reasons := []string{send(t, pair, p.Conversion(1))[0].Reason}
	pair.Close()
	reasons = append(reasons, send(t, pair, p.Conversion(1))[0].Reason)
	for _, r := range reasons {
		for _, s := range p.Secrets {
			if strings.Contains(r, s) {
				t.Fatalf("reason %q holds the secret %q", r, s)
			}
		}
	}
}

func (p Platform) batch(from, n int) []conversions.Conversion {
	out := make([]conversions.Conversion, n)
	for i := range out {
		out[i] = p.Conversion(from + i)
	}
	return out
}

func send(t *testing.T, pair Pair, batch ...conversions.Conversion) []conversions.Outcome {
	t.Helper()
	out := pair.Client.Send(context.Background(), batch)
	if len(out) != len(batch) {
		t.Fatalf("%d outcomes for %d conversions", len(out), len(batch))
	}
	return out
}

func wantClass(t *testing.T, out []conversions.Outcome, want conversions.Class) {
	t.Helper()
	for i, o := range out {
		if o.Class != want {
			t.Fatalf("outcome %d: %+v, want %s", i, o, want)
		}
	}
}

func wantNothingCounted(t *testing.T, pair Pair) {
	t.Helper()
	if n := pair.Ledger.Unique(); n != 0 {
		t.Fatalf("a refused request was counted %d times", n)
	}
}

func itoa(n int) string { return fmt.Sprint(n) }

func pad12(n int) string { return fmt.Sprintf("%012d", n) }
