package fakeposthog

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"
)

// refusal is an answer to a request the fake will not take: plain text, as
// PostHog's capture service answers errors (where the proxy answers JSON,
// docs/contracts/posthog-capture.md §7.2).
type refusal struct {
	status int
	text   string
}

func (r *refusal) Error() string { return fmt.Sprintf("%d %s", r.status, r.text) }

func badRequest(format string, args ...any) *refusal {
	return &refusal{status: http.StatusBadRequest, text: fmt.Sprintf(format, args...)}
}

func unauthorized(format string, args ...any) *refusal {
	return &refusal{status: http.StatusUnauthorized, text: fmt.Sprintf(format, args...)}
}

// Limits PostHog applies to the fields it keeps (docs/contracts/posthog-capture.md §3.2–3.3).
const (
	maxDistinctID = 200
	maxToken      = 64
)

// checkRules are what a project checks beyond the wire format.
type checkRules struct {
	token            string
	allowMissingUUID bool
}

// batch is a checked capture payload: every event valid, one token.
type batch struct {
	events     []stored
	token      string
	historical bool
	sentAt     string
}

// stored is one checked event as the ledger keeps it; props is the raw
// properties object, decoded only when a test asks.
type stored struct {
	key        uuid.UUID
	uuid       string
	event      string
	distinctID string
	timestamp  string
	offset     *int64
	token      string
	ip         string
	historical bool
	path       string
	props      string
	// generatedUUID marks a uuid the fake made for an event without one.
	generatedUUID bool
}

// checkPayload reads a decoded capture payload the way capture-rs does and
// refuses the whole request for one bad event (docs/contracts/posthog-capture.md §3).
func checkPayload(js []byte, rules checkRules) (batch, *refusal) {
	if !gjson.ValidBytes(js) {
		return batch{}, badRequest("failed to decode request: invalid JSON")
	}
	b, raws, rerr := readShape(gjson.Parse(string(js)))
	if rerr != nil {
		return batch{}, rerr
	}
	if len(raws) == 0 {
		return batch{}, badRequest("batch is empty")
	}
	if rerr := b.readEvents(raws, rules); rerr != nil {
		return batch{}, rerr
	}
	if rerr := b.settleToken(rules.token); rerr != nil {
		return batch{}, rerr
	}
	return b, nil
}

// readShape tells an array of events, a batch object and a single event
// apart, in capture-rs's order (docs/contracts/posthog-capture.md §3.1).
func readShape(root gjson.Result) (batch, []gjson.Result, *refusal) {
	switch {
	case root.IsArray():
		return batch{}, root.Array(), nil
	case !root.IsObject():
		return batch{}, nil, badRequest("failed to decode request: payload is neither an event, a list of events nor a batch")
	}
	f := collectBatchFields(root)
	if !f.batch.Exists() || f.batch.Type == gjson.Null {
		if !f.event.Exists() {
			return batch{}, nil, badRequest("non-engage request missing event name attribute")
		}
		return batch{}, []gjson.Result{root}, nil
	}
	if !f.batch.IsArray() {
		return batch{}, nil, badRequest("failed to decode request: batch is not a list")
	}
	b, rerr := f.read()
	return b, f.batch.Array(), rerr
}

// batchFields are the top-level fields of a batch object, read in one pass
// so the events are scanned once.
type batchFields struct {
	batch, event, apiKey, token, sentAt, historical gjson.Result
}

func collectBatchFields(root gjson.Result) batchFields {
	var f batchFields
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "batch":
			f.batch = v
		case "event":
			f.event = v
		case "api_key":
			f.apiKey = v
		case "token":
			f.token = v
		case "sent_at":
			f.sentAt = v
		case "historical_migration":
			f.historical = v
		}
		return true
	})
	return f
}

// read checks the batch object's token, sent_at and historical_migration,
// each of its own JSON type.
func (f batchFields) read() (batch, *refusal) {
	var b batch
	for _, v := range []gjson.Result{f.apiKey, f.token} {
		if v.Exists() && v.Type != gjson.Null && v.Type != gjson.String {
			return b, badRequest("failed to decode request: the batch token is not a string")
		}
		if b.token == "" && strings.TrimSpace(v.Str) != "" {
			b.token = v.Str
		}
	}
	if v := f.sentAt; v.Exists() && v.Type != gjson.Null {
		if v.Type != gjson.String || !isRFC3339(v.Str) {
			return b, badRequest("failed to decode request: sent_at %s is not an RFC 3339 time", v.Raw)
		}
		b.sentAt = v.Str
	}
	if v := f.historical; v.Exists() && v.Type != gjson.Null {
		if !v.IsBool() {
			return b, badRequest("failed to decode request: historical_migration is not a boolean")
		}
		b.historical = v.Bool()
	}
	return b, nil
}

// readEvents checks each event; $performance_event is dropped, as PostHog
// drops it (docs/contracts/posthog-capture.md §3.5).
func (b *batch) readEvents(raws []gjson.Result, rules checkRules) *refusal {
	b.events = make([]stored, 0, len(raws))
	for i, raw := range raws {
		e, rerr := readEvent(raw, rules.allowMissingUUID)
		if rerr != nil {
			rerr.text = fmt.Sprintf("event %d: %s", i, rerr.text)
			return rerr
		}
		if e.event == "$performance_event" {
			continue
		}
		e.historical = b.historical
		b.events = append(b.events, e)
	}
	return nil
}

// settleToken picks the batch token, else the one every event agrees on,
// checks its shape and that it is the project's (docs/contracts/posthog-capture.md §3.2).
func (b *batch) settleToken(project string) *refusal {
	token := strings.TrimSpace(b.token)
	if token == "" {
		for _, e := range b.events {
			t := strings.TrimSpace(e.token)
			switch {
			case t == "" || t == token:
			case token == "":
				token = t
			default:
				return unauthorized("multiple tokens in one request")
			}
		}
	}
	if rerr := checkTokenShape(token); rerr != nil {
		return rerr
	}
	if project != "" && token != project {
		return unauthorized("project API key invalid: %q is not this project's", token)
	}
	b.token = token
	for i := range b.events {
		b.events[i].token = token
	}
	return nil
}

// checkTokenShape refuses what can never be a project token: empty, too
// long, not ASCII, NUL, or a personal key.
func checkTokenShape(token string) *refusal {
	switch {
	case token == "":
		return unauthorized("no token in the request")
	case len(token) > maxToken:
		return unauthorized("token longer than %d characters", maxToken)
	case strings.HasPrefix(token, "phx_"):
		return unauthorized("token is a personal API key")
	}
	for i := 0; i < len(token); i++ {
		if token[i] == 0 || token[i] > 0x7f {
			return unauthorized("token is not printable ASCII")
		}
	}
	return nil
}

func isRFC3339(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}
