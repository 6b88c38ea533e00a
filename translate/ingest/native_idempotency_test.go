package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/native"
)

func TestNativeIdempotencyKeyNamespaces(t *testing.T) {
	f := func(header, want string) {
		t.Helper()
		ev, err := native.ParseEvent([]byte(`{"name":"paid","userId":"u1"}`), true, header)
		if err != nil {
			t.Fatal(err)
		}
		if ev.IdempotencyKey != want {
			t.Fatalf("Idempotency-Key %q claims %q, want %q", header, ev.IdempotencyKey, want)
		}
	}
	// Ordinary keys keep the form rows stored before namespaces hold.
	f("order-42", "order-42")
	f("", "")
	f("PH:x", "PH:x")
	f("phx", "phx")
	// Reserved prefixes are escaped, one-to-one.
	f("ph:0193a1b2-0000-7000-8000-000000000001", "native:ph:0193a1b2-0000-7000-8000-000000000001")
	f("native:ph:x", "native:native:ph:x")
	f("native:", "native:native:")
}

// TestNativeKeyDoesNotTakeCaptureUUIDSlot: a native event whose
// Idempotency-Key is "ph:<u>" and a PostHog event with uuid <u> are both
// stored, and each is still deduplicated against itself.
func TestNativeKeyDoesNotTakeCaptureUUIDSlot(t *testing.T) {
	const u = "0193a1b2-0000-7000-8000-00000000abcd"
	j := &flakyJournal{}
	in := New(identity.NewMemory(), j, Options{IdempotencyWindow: time.Hour})
	defer in.Close()
	ev, err := native.ParseEvent([]byte(`{"name":"paid","userId":"u1"}`), true, "ph:"+u)
	if err != nil {
		t.Fatal(err)
	}
	native := func() bool {
		t.Helper()
		res, err := in.TrackEvent(context.Background(), ev, "api", false)
		if err != nil {
			t.Fatal(err)
		}
		return res.Stored
	}
	body := []byte(`{"api_key":"phc_x","event":"pageview","distinct_id":"d1","uuid":"` + u + `"}`)
	capture := func() CaptureResult {
		t.Helper()
		res, err := in.Capture(context.Background(), CaptureRequest{Path: "/e", Body: body, ContentType: "application/json"}, CaptureOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if !native() {
		t.Fatal("native event not stored")
	}
	if res := capture(); res.Stored != 1 || res.Duplicates != 0 {
		t.Fatalf("capture after a native ph: key = %+v, want stored", res)
	}
	if native() {
		t.Fatal("native retry stored twice")
	}
	if res := capture(); res.Stored != 0 || res.Duplicates != 1 {
		t.Fatalf("capture retry = %+v, want a duplicate", res)
	}
	var names []string
	for _, b := range j.batches {
		for _, e := range b.Events {
			names = append(names, e.Name+"/"+e.IdempotencyKey)
		}
	}
	if len(names) != 2 || names[0] != "paid/native:ph:"+u || names[1] != "pageview/" {
		t.Fatalf("stored events %v, want the native one under its namespaced key and the capture one", names)
	}
}
