package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// setEmailBatch is a gzip /batch/ body of n events of one person setting
// an email, padded to about pad bytes each.
func setEmailBatch(t *testing.T, token string, n, pad int) []byte {
	t.Helper()
	var js bytes.Buffer
	fmt.Fprintf(&js, `{"api_key":%q,"batch":[`, token)
	for i := 0; i < n; i++ {
		if i > 0 {
			js.WriteByte(',')
		}
		fmt.Fprintf(&js, `{"event":"e","distinct_id":"big-1","properties":{"$set":{"email":"big@corp.example"},"pad":%q}}`, strings.Repeat("x", pad))
	}
	js.WriteString("]}")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(js.Bytes())
	zw.Close()
	return gz.Bytes()
}

// TestCaptureRefusesOverTheDecodedCapBeforeIdentity: a payload over the
// configured decoded cap (as one the spool could never hold is over the
// default) is a 413 kind of error, and no contact or event comes of it; the
// same payload under a larger cap is stored, so the test can fail.
func TestCaptureRefusesOverTheDecodedCapBeforeIdentity(t *testing.T) {
	body := setEmailBatch(t, "phc_x", 40, 4000) // about 160 KB decoded
	capture := func(maxDecoded int) (CaptureResult, *flakyJournal, *identity.Memory, error) {
		j, store := &flakyJournal{}, identity.NewMemory()
		in := New(store, j, Options{IdempotencyWindow: time.Hour})
		defer in.Close()
		res, err := in.Capture(context.Background(), CaptureRequest{Path: "/batch/", ContentType: "text/plain", Body: body},
			CaptureOptions{MaxDecoded: maxDecoded, MaxDecodeRatio: 1000})
		return res, j, store, err
	}
	_, j, store, err := capture(64 << 10)
	if !errors.Is(err, posthog.ErrTooLarge) || posthog.Reason(err) != "too_large" {
		t.Fatalf("over the cap: %v, want ErrTooLarge", err)
	}
	found, ferr := store.Find(context.Background(), "big@corp.example", "")
	if ferr != nil || len(found) != 0 || len(j.batches) != 0 {
		t.Fatalf("over the cap: %d contacts (%v), %d batches; want none", len(found), ferr, len(j.batches))
	}
	res, j, store, err := capture(1 << 20)
	found, _ = store.Find(context.Background(), "big@corp.example", "")
	if err != nil || res.Stored != 40 || len(found) != 1 || len(j.batches) != 1 {
		t.Fatalf("under the cap: %+v, %v, %d contacts, %d batches", res, err, len(found), len(j.batches))
	}
}

// TestCaptureRefusesUnknownTokenBeforeParsing: an unknown batch token is
// refused even when the payload would fail the parse (here with too many
// events), so the events were never built.
func TestCaptureRefusesUnknownTokenBeforeParsing(t *testing.T) {
	in := New(identity.NewMemory(), &flakyJournal{}, Options{IdempotencyWindow: time.Hour})
	defer in.Close()
	events := strings.Repeat(`{"event":"e","distinct_id":"d"},`, 20) + `{"event":"e","distinct_id":"d"}`
	f := func(token string, want error) {
		t.Helper()
		_, err := in.Capture(context.Background(), CaptureRequest{Path: "/batch/", ContentType: "application/json",
			Body: []byte(`{"api_key":"` + token + `","batch":[` + events + `]}`)},
			CaptureOptions{Tokens: map[string]bool{"phc_ok": true}, MaxEvents: 10})
		if !errors.Is(err, want) {
			t.Fatalf("token %q: %v, want %v", token, err, want)
		}
	}
	f("phc_unknown", ErrUnknownToken)
	f("phc_ok", posthog.ErrTooManyEvents)
}

// TestCaptureDropsOversizeEvents: an event over the size cap is dropped
// with a warning and the rest of its batch stored.
func TestCaptureDropsOversizeEvents(t *testing.T) {
	j := &flakyJournal{}
	in := New(identity.NewMemory(), j, Options{IdempotencyWindow: time.Hour})
	defer in.Close()
	body := `{"api_key":"phc_x","batch":[{"event":"a","distinct_id":"d"},` +
		`{"event":"big","distinct_id":"d","properties":{"pad":"` + strings.Repeat("x", 5000) + `"}},` +
		`{"event":"b","distinct_id":"d"}]}`
	res, err := in.Capture(context.Background(), CaptureRequest{Path: "/batch/", ContentType: "application/json", Body: []byte(body)},
		CaptureOptions{MaxEventBytes: 4096})
	if err != nil || res.Stored != 2 || res.Dropped != 1 || len(res.Warnings) != 1 || res.Warnings[0] != "event_too_large" {
		t.Fatalf("capture = %+v, %v; want 2 stored, 1 dropped with a warning", res, err)
	}
	for _, b := range j.batches {
		for _, e := range b.Events {
			if e.Name == "big" {
				t.Fatalf("the oversize event was stored")
			}
		}
	}
}
