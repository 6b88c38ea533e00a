package conversions_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/conversions/googleads"
	"github.com/hogsend/hogsend-proxy/conversions/tiktok"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/googleadsfake"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/tiktokfake"
)

// deadLetters keeps dead letters in memory (ClickHouse is tested with the
// real servers in internal/app).
type deadLetters struct {
	mu   sync.Mutex
	rows []conversions.ConversionDeadLetter
}

func (d *deadLetters) InsertConversionDeadLetters(_ context.Context, rows []conversions.ConversionDeadLetter) error {
	d.mu.Lock()
	d.rows = append(d.rows, rows...)
	d.mu.Unlock()
	return nil
}

func (d *deadLetters) all() []conversions.ConversionDeadLetter {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]conversions.ConversionDeadLetter(nil), d.rows...)
}

// clock is a settable time source shared by a client, a fake and a dispatcher.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func run(t *testing.T, d *conversions.Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dispatcher: %v", err)
		}
		d.Close()
	})
}

// Google answers TOO_RECENT for a click under 6 hours old: the conversion
// is parked in the deferred queue (not blocking the rest) and delivered
// once it is due.
func TestDispatcherDefersLongPlatformDelays(t *testing.T) {
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	fake := googleadsfake.New(googleadsfake.WithClock(clk.Now))
	t.Cleanup(fake.Close)
	cfg := googleads.Config{
		CustomerID: googleadsfake.DefaultCustomerID, ConversionAction: googleadsfake.DefaultConversionActionID,
		DeveloperToken: googleadsfake.DefaultDeveloperToken, ClientID: googleadsfake.DefaultClientID,
		ClientSecret: googleadsfake.DefaultClientSecret, RefreshToken: googleadsfake.DefaultRefreshToken,
		TokenURL: fake.TokenURL(), BaseURL: fake.URL, APIVersion: googleadsfake.DefaultVersion,
	}
	client, err := googleads.New(cfg, conversions.ClientOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	dead := &deadLetters{}
	d, err := conversions.OpenDispatcher(t.TempDir(), client, dead, nil, conversions.DispatchOptions{
		RetryInitial: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	recent := destinationtest.Conversion(1, "CompletePayment", clk.Now().Add(-time.Minute))
	recent.Clicks = conversions.Clicks{Gclid: "Cj0KCQ-recent", At: clk.Now().Add(-time.Hour)}
	plain := destinationtest.Conversion(2, "CompletePayment", clk.Now().Add(-time.Minute))
	plain.Clicks = conversions.Clicks{}
	if err := d.Queue().Append(context.Background(), []conversions.Conversion{recent, plain}, 0); err != nil {
		t.Fatal(err)
	}
	run(t, d)
	waitFor(t, "the conversion without a click", func() bool { return fake.Ledger.Unique() == 1 })
	time.Sleep(100 * time.Millisecond)
	if fake.Ledger.Unique() != 1 || d.Backlog() == 0 || len(dead.all()) != 0 {
		t.Fatalf("before due: counted %d, backlog %d, dead %d; want 1, >0, 0", fake.Ledger.Unique(), d.Backlog(), len(dead.all()))
	}
	clk.Advance(6 * time.Hour)
	waitFor(t, "the deferred conversion", func() bool { return fake.Ledger.Unique() == 2 && d.Backlog() == 0 })
	if d.Delivered() != 2 || d.Failed() != 0 {
		t.Fatalf("delivered %d failed %d", d.Delivered(), d.Failed())
	}
}

// TikTok refuses a whole batch for one stale event: the dispatcher splits
// the batch until the bad event stands alone, delivers the rest and
// dead-letters only that one, with the platform's reason.
func TestDispatcherSplitsRefusedBatches(t *testing.T) {
	fake := tiktokfake.New(tiktokfake.WithMaxAge(24 * time.Hour))
	t.Cleanup(fake.Close)
	client, err := tiktok.New(tiktok.Config{
		PixelCode: tiktokfake.DefaultPixelCode, AccessToken: tiktokfake.DefaultAccessToken,
		BaseURL: fake.URL, MaxAge: "720h",
	}, conversions.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dead := &deadLetters{}
	d, err := conversions.OpenDispatcher(t.TempDir(), client, dead, nil, conversions.DispatchOptions{RetryInitial: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var batch []conversions.Conversion
	for i := range 16 {
		at := time.Now().Add(-time.Minute)
		if i == 11 {
			at = time.Now().Add(-72 * time.Hour) // too old for the platform
		}
		batch = append(batch, destinationtest.Conversion(i, "CompletePayment", at))
	}
	if err := d.Queue().Append(context.Background(), batch, 0); err != nil {
		t.Fatal(err)
	}
	run(t, d)
	waitFor(t, "the split batch", func() bool { return d.Delivered() == 15 && d.Failed() == 1 })
	letters := dead.all()
	if fake.Ledger.Unique() != 15 || len(letters) != 1 || letters[0].DedupID != batch[11].DedupID || letters[0].Reason == "" {
		t.Fatalf("counted %d, dead letters %+v", fake.Ledger.Unique(), letters)
	}
	// 1 whole + 2 halves + 2 quarters + 2 eighths + 2 sixteenths at most.
	if n := len(fake.Requests()); n > 9 {
		t.Fatalf("%d requests to isolate one event", n)
	}
	waitFor(t, "the queue committed", func() bool { return d.Backlog() == 0 })
}

// A batch refused as a whole while the client refused one row itself:
// the dispatcher splits it, so only the two bad rows are dead-lettered.
func TestDispatcherSplitsAroundClientRejections(t *testing.T) {
	fake := tiktokfake.New(tiktokfake.WithMaxAge(24 * time.Hour))
	t.Cleanup(fake.Close)
	client, err := tiktok.New(tiktok.Config{
		PixelCode: tiktokfake.DefaultPixelCode, AccessToken: tiktokfake.DefaultAccessToken,
		BaseURL: fake.URL, MaxAge: "720h",
	}, conversions.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dead := &deadLetters{}
	d, err := conversions.OpenDispatcher(t.TempDir(), client, dead, nil, conversions.DispatchOptions{RetryInitial: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var batch []conversions.Conversion
	for i := range 8 {
		batch = append(batch, destinationtest.Conversion(i, "CompletePayment", time.Now().Add(-time.Minute)))
	}
	batch[2].OccurredAt = time.Now().Add(-72 * time.Hour)                     // the platform refuses it, and the batch with it
	batch[5].User, batch[5].Clicks = conversions.User{}, conversions.Clicks{} // the client refuses it: no identifier
	if err := d.Queue().Append(context.Background(), batch, 0); err != nil {
		t.Fatal(err)
	}
	run(t, d)
	waitFor(t, "the split batch", func() bool { return d.Delivered() == 6 && d.Failed() == 2 })
	if fake.Ledger.Unique() != 6 {
		t.Fatalf("counted %d", fake.Ledger.Unique())
	}
}
