package conversions

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzQueueEntryRoundTrip: a queue record that decodes re-encodes to bytes
// that decode to the same record, so a conversion re-queued (split batch,
// deferred retry, dead letter replay) is the conversion first queued.
func FuzzQueueEntryRoundTrip(f *testing.F) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	full, _ := json.Marshal(queueEntry{NotBefore: at.UnixMilli(), Conversions: []Conversion{{
		DedupID: "d1", RuleID: "r", EventID: "e", EventName: "Purchase", TriggerEvent: "order.paid",
		ContactID: "c", OccurredAt: at, HasValue: true, Value: 49.5, Currency: "EUR", OrderID: "o",
		PageURL: "https://shop.example/", User: User{Email: "a@example.com", Phone: "+15551230000"},
		Clicks: Clicks{Gclid: "g", Fbc: "fb.1.1.x", At: at}, Consent: ConsentGranted,
	}}})
	f.Add(full)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"conversions":null}`))
	f.Add([]byte(`{"not_before":-1,"conversions":[{"occurred_at":"2026-01-01T00:00:00.123456789+02:00","value":1e308}]}`))
	f.Add([]byte(`{"conversions":[{"user":{"email":"\u00e9\ud800"},"value":-0}]}`))
	f.Add([]byte(`{"conversions":[{"occurred_at":"0001-01-01T00:00:00Z","consent":"denied"}],"extra":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry(data)
		if err != nil {
			return
		}
		once, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("a decoded record does not encode: %v", err)
		}
		again, err := decodeEntry(once)
		if err != nil {
			t.Fatalf("an encoded record does not decode: %v\n%s", err, once)
		}
		twice, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once, twice) {
			t.Fatalf("round trip changed the record:\n%s\n%s", once, twice)
		}
		if len(again.Conversions) != len(e.Conversions) || again.NotBefore != e.NotBefore {
			t.Fatalf("round trip changed the batch: %d/%d conversions, not_before %d/%d",
				len(again.Conversions), len(e.Conversions), again.NotBefore, e.NotBefore)
		}
		for i := range e.Conversions {
			a, b := e.Conversions[i], again.Conversions[i]
			if !a.OccurredAt.Equal(b.OccurredAt) || a.DedupID != b.DedupID || a.Value != b.Value || a.User != b.User {
				t.Fatalf("conversion %d changed: %+v → %+v", i, a, b)
			}
		}
	})
}
