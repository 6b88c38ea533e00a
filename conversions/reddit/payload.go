package reddit

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The wire body of POST /api/v3/pixels/{pixel_id}/conversion_events
// (docs/contracts/ad-platforms.md §6.2). Structs, not maps: encoding/json writes fields in declaration
// order, so a body is deterministic and tests compare bytes. Conversions are
// low-volume, so reflection-based encoding is fine here.
type body struct {
	Data data `json:"data"`
}

type data struct {
	// TestID makes the events test events (not counted); only in test mode.
	TestID string  `json:"test_id,omitempty"`
	Events []event `json:"events"`
}

type event struct {
	// EventAt is epoch milliseconds: seconds would be accepted and land in
	// 1970 (docs/contracts/ad-platforms.md §6.2, common mistakes).
	EventAt        int64     `json:"event_at"`
	ActionSource   string    `json:"action_source"`
	EventSourceURL string    `json:"event_source_url,omitempty"`
	ClickID        string    `json:"click_id,omitempty"`
	Type           eventType `json:"type"`
	User           user      `json:"user"`
	Metadata       metadata  `json:"metadata"`
}

type metadata struct {
	// ConversionID is the dedup key shared with the browser pixel: sent as
	// is (PH, RS and AP send it raw; hashing it is contested, docs/contracts/ad-platforms.md §6.3). Ours is
	// the DedupID, already a hex digest a pixel can compute.
	ConversionID string `json:"conversion_id"`
	Currency     string `json:"currency,omitempty"`
	// Value is a decimal in the currency's unit (v3; v2's minor-unit integer
	// is gone). A pointer so that a real 0 is still sent.
	Value *float64 `json:"value,omitempty"`
}

// encodeBody writes the request body. HTML escaping is off so URLs keep
// their '&' (escaped or not, the JSON is valid; plain is what Reddit's own
// examples show).
func encodeBody(testID string, events []event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body{Data: data{TestID: testID, Events: events}}); err != nil {
		return nil, fmt.Errorf("encode reddit body: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
