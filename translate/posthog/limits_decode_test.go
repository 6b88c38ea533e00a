package posthog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// countingBudget is a Budget that records what it is asked for and refuses
// past room bytes.
type countingBudget struct {
	room     int
	reserved int
	calls    int
}

var errNoRoom = errors.New("no room in the test budget")

func (b *countingBudget) Reserve(n int) error {
	b.calls++
	if b.reserved+n > b.room {
		return errNoRoom
	}
	b.reserved += n
	return nil
}

var _ Budget = (*countingBudget)(nil)

func TestDecodeLimitsRefuseBombs(t *testing.T) {
	f := func(name string, in RequestInput, limits Limits, kind error, msg string) {
		t.Helper()
		got, err := DecodeRequest(in, limits)
		if !errors.Is(err, kind) || !strings.Contains(err.Error(), msg) {
			t.Fatalf("%s (%d bytes): got %d bytes, %v; want %v containing %q", name, len(in.Body)+len(in.Query), len(got), err, kind, msg)
		}
	}
	gz := gzipBomb(t, 40<<20) // about 40 KB on the wire
	b64gz := base64.StdEncoding.EncodeToString(gz)
	lz := lzBombBase64(3000, 'a') // 6 KB decoding to 4.5 M units
	form := "application/x-www-form-urlencoded"
	none := Limits{}
	noRatio := Limits{MaxDecodeRatio: 1 << 20}

	f("gzip", RequestInput{Path: "/batch/", ContentType: "text/plain", Body: gz}, none, ErrDecodeRatio, "decode gzip body: decoded size passes 100 times the")
	f("gzip, no ratio", RequestInput{Path: "/batch/", Body: gz}, noRatio, ErrTooLarge, "decode gzip body: decoded size passes the limit of 33554432 bytes")
	f("base64 of gzip", RequestInput{Path: "/e/", Body: []byte(b64gz)}, none, ErrDecodeRatio, "decode gzip body")
	f("form of base64 of gzip", RequestInput{Path: "/e/", ContentType: form, Body: []byte("data=" + url.QueryEscape(b64gz))}, none, ErrDecodeRatio, "decode gzip body")
	f("query base64 of gzip", RequestInput{Path: "/e/", Query: []byte("data=" + url.QueryEscape(b64gz))}, none, ErrDecodeRatio, "decode gzip body")
	f("lz64", RequestInput{Path: "/batch/", ContentEncoding: "lz64", Body: lz}, none, ErrDecodeRatio, "decode lz64 body: decoded size passes 100 times the")
	f("lz64, no ratio", RequestInput{Path: "/batch/", ContentEncoding: "lz64", Body: lz}, Limits{MaxDecodeRatio: 1 << 20, MaxDecoded: 1 << 20}, ErrTooLarge, "decode lz64 body: decoded size passes the limit of 1048576 bytes")
	f("form lz64", RequestInput{Path: "/e/", ContentType: form, Body: append([]byte("compression=lz64&data="), lz...)}, none, ErrDecodeRatio, "decode lz64 body")
	f("query lz64", RequestInput{Path: "/e/", Query: append([]byte("compression=lz64&data="), lz...)}, none, ErrDecodeRatio, "decode lz64 body")
	// every intermediate is bounded: here the form and base64 stages
	js := `[` + strings.Repeat(`{"event":"e"},`, 200) + `{"event":"e"}]`
	b64 := base64.StdEncoding.EncodeToString([]byte(js))
	f("form stage", RequestInput{Path: "/e/", ContentType: form, Body: []byte("data=" + url.QueryEscape(b64))}, Limits{MaxDecoded: 2048}, ErrTooLarge, "decode form data: decoded size passes the limit of 2048 bytes")
	f("base64 stage", RequestInput{Path: "/e/", Body: []byte(b64)}, Limits{MaxDecoded: 2048}, ErrTooLarge, "decode base64 payload: decoded size passes the limit of 2048 bytes")
	// the ratio applies past its floor only
	small := gzipBytes(t, bytes.Repeat([]byte(" "), DecodeRatioFloor+1))
	f("small gzip past the floor", RequestInput{Path: "/e/", Body: append(small[:0:0], small...)}, none, ErrDecodeRatio, "decode gzip body")
}

func TestDecodeLimitsAcceptUnderTheFloor(t *testing.T) {
	// 64 KiB of JSON from a body of about 200 bytes: a ratio of 300, under
	// the floor.
	js := `[` + strings.Repeat(" ", DecodeRatioFloor-len(`[{"event":"e"}]`)) + `{"event":"e"}]`
	gz := gzipBytes(t, []byte(js))
	if ratio := len(js) / len(gz); ratio <= DefaultMaxDecodeRatio {
		t.Fatalf("ratio %d: the case tests nothing", ratio)
	}
	out, err := DecodeRequest(RequestInput{Path: "/batch/", Body: gz}, Limits{})
	if err != nil || string(out) != js {
		t.Fatalf("decoded %d bytes, %v; want the %d bytes", len(out), err, len(js))
	}
}

func TestDecodeChargesBudget(t *testing.T) {
	js := string(benchBatch(t, 50))
	gz := gzipBytes(t, []byte(js))
	lz := []byte(lzCompressToBase64(js))
	f := func(name string, in RequestInput, wantMin, wantMax int) {
		t.Helper()
		b := &countingBudget{room: 1 << 30}
		out, err := DecodeRequest(in, Limits{Budget: b})
		if err != nil || string(out) != js {
			t.Fatalf("%s: %d bytes, %v", name, len(out), err)
		}
		if b.reserved < wantMin || b.reserved > wantMax {
			t.Fatalf("%s: reserved %d bytes in %d calls; want %d to %d", name, b.reserved, b.calls, wantMin, wantMax)
		}
	}
	n := len(js)
	f("plain", RequestInput{Path: "/batch/", Body: []byte(js)}, n, n+budgetChunk)
	f("gzip", RequestInput{Path: "/batch/", Body: gz}, n, n+512+budgetChunk)
	// lz64: the UTF-16 output (two bytes a unit, grown by doubling), the
	// dictionary and the UTF-8 copy
	f("lz64", RequestInput{Path: "/batch/", ContentEncoding: "lz64", Body: lz}, 3*n, 6*n+budgetChunk)
	f("base64", RequestInput{Path: "/batch/", Body: []byte(base64.StdEncoding.EncodeToString([]byte(js)))}, n, n+budgetChunk)
}

func TestDecodeStopsWhenTheBudgetRefuses(t *testing.T) {
	f := func(name string, in RequestInput) {
		t.Helper()
		b := &countingBudget{room: 256 << 10}
		_, err := DecodeRequest(in, Limits{MaxDecodeRatio: 1 << 20, Budget: b})
		if !errors.Is(err, ErrOverloaded) || !errors.Is(err, errNoRoom) || Reason(err) != "overloaded" {
			t.Fatalf("%s: %v; want ErrOverloaded wrapping the budget's error", name, err)
		}
		if b.reserved > b.room {
			t.Fatalf("%s: reserved %d past the room of %d", name, b.reserved, b.room)
		}
	}
	f("gzip", RequestInput{Path: "/batch/", Body: gzipBomb(t, 8<<20)})
	f("lz64", RequestInput{Path: "/batch/", ContentEncoding: "lz64", Body: lzBombBase64(3000, 'a')})
	big := `[` + strings.Repeat(`{"event":"e"},`, 40000) + `{"event":"e"}]`
	f("plain", RequestInput{Path: "/batch/", Body: []byte(big)})
}

// TestBudgetTooLargeForever: a budget that can never hold the request
// wraps ErrTooLarge, and the decoder's error matches it (413, not 503).
func TestBudgetTooLargeForever(t *testing.T) {
	never := budgetFunc(func(n int) error { return fmt.Errorf("lease of %d bytes: %w", n, ErrTooLarge) })
	_, err := DecodeRequest(RequestInput{Path: "/batch/", Body: gzipBomb(t, 1<<20)}, Limits{Budget: never})
	if !errors.Is(err, ErrOverloaded) || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%v: want ErrOverloaded wrapping the budget's ErrTooLarge", err)
	}
}

type budgetFunc func(n int) error

func (f budgetFunc) Reserve(n int) error { return f(n) }

func TestLZBomb(t *testing.T) {
	out, err := DecompressLZStringBase64(lzBombBase64(200, 'a'), 0)
	if err != nil || len(out) != 201*202/2 || strings.Trim(string(out), "a") != "" {
		t.Fatalf("bomb of 200 codes: %d bytes, %v; want %d a's", len(out), err, 201*202/2)
	}
}

// yieldingBudget is a countingBudget that counts its yields.
type yieldingBudget struct {
	countingBudget
	yields int
}

func (b *yieldingBudget) Yield() { b.yields++ }

var _ Yielder = (*yieldingBudget)(nil)

// TestDecodeYields: a Budget that is a Yielder is yielded to once every
// paceBytes of each stage's output, however it is encoded.
func TestDecodeYields(t *testing.T) {
	js := string(benchBatch(t, 600))
	n := len(js)
	if n < 4*paceBytes {
		t.Fatalf("the batch is %d bytes: the test needs several paces", n)
	}
	f := func(name string, in RequestInput, wantMin int) {
		t.Helper()
		b := &yieldingBudget{countingBudget: countingBudget{room: 1 << 30}}
		out, err := DecodeRequest(in, Limits{Budget: b})
		if err != nil || string(out) != js {
			t.Fatalf("%s: %d bytes, %v", name, len(out), err)
		}
		if b.yields < wantMin || b.yields > 2*n/paceBytes+2 {
			t.Fatalf("%s: %d yields for %d bytes, want %d to %d", name, b.yields, n, wantMin, 2*n/paceBytes+2)
		}
	}
	f("gzip", RequestInput{Path: "/batch/", Body: gzipBytes(t, []byte(js))}, n/paceBytes-1)
	f("lz64", RequestInput{Path: "/batch/", ContentEncoding: "lz64", Body: []byte(lzCompressToBase64(js))}, n/paceBytes-1)
	b := &yieldingBudget{countingBudget: countingBudget{room: 1 << 30}}
	if _, err := DecodeRequest(RequestInput{Path: "/batch/", Body: []byte(js)}, Limits{Budget: b}); err != nil || b.yields > 1 {
		t.Fatalf("plain JSON, checked once: %d yields, %v", b.yields, err)
	}
}
