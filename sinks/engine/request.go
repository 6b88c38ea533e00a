package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

// Request is one engine request as the hand-off sends it, and as a dead
// letter keeps it for a replay.
type Request struct {
	Call      uuid.UUID
	Kind      uint8
	ContactID uuid.UUID
	Method    string
	Path      string // under the engine's base URL, e.g. /v1/events
	// IdempotencyKey is sent as the Idempotency-Key header ("" for none).
	IdempotencyKey string
	Body           []byte
	// At is when the proxy accepted the write (Unix ms): the hand-off's lag.
	At      int64
	Awaited bool
}

// nativeKeyPrefix is how ingestion escapes a client's idempotency key that
// starts with a reserved prefix (docs/contracts/hogsend-api.md § 5.4); the
// engine gets the key as the client sent it.
const nativeKeyPrefix = "native:"

// NewRequest builds the request of call. A CallEvent needs its event (from
// the same batch); the others ignore ev.
func NewRequest(call *canonical.EngineCall, ev *canonical.Event) (Request, error) {
	r := Request{Call: call.ID, Kind: call.Kind, ContactID: call.ContactID, Awaited: call.Awaited}
	switch call.Kind {
	case canonical.CallUpsert:
		r.Method, r.Path, r.Body = "PUT", "/v1/contacts", clone(call.Body)
	case canonical.CallDelete:
		r.Method, r.Path, r.Body = "DELETE", "/v1/contacts", clone(call.Body)
	case canonical.CallEvent:
		if ev == nil {
			return r, fmt.Errorf("engine call %s: its event is not in the batch", call.ID)
		}
		r.Method, r.Path = "POST", "/v1/events"
		r.IdempotencyKey = eventIdempotencyKey(ev)
		r.Body = eventBody(call.Body, ev)
		r.At = ev.ReceivedAt
	default:
		return r, fmt.Errorf("engine call %s: unknown kind %d", call.ID, call.Kind)
	}
	return r, nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// eventIdempotencyKey is the client's key, else the event's id: a retry or
// a replay of the hand-off is then stored once by the engine.
func eventIdempotencyKey(ev *canonical.Event) string {
	if ev.Source != "posthog" && ev.IdempotencyKey != "" {
		return strings.TrimPrefix(ev.IdempotencyKey, nativeKeyPrefix)
	}
	return ev.ID.String()
}

// eventBody is POST /v1/events: the call's members (identity keys,
// contactProperties, lists) and the event's own fields.
func eventBody(members []byte, ev *canonical.Event) []byte {
	b := make([]byte, 0, len(members)+len(ev.Properties)+128)
	b = append(b, `{"name":`...)
	b = jsontext.AppendString(b, ev.Name)
	if inner := jsontext.Members(members); len(inner) > 0 {
		b = append(append(b, ','), inner...)
	}
	if ev.Source == "posthog" {
		b = appendPostHogProperties(b, ev)
	} else {
		b = append(b, `,"eventProperties":`...)
		b = appendObject(b, ev.Properties)
	}
	if ev.HasValue {
		b = append(b, `,"value":`...)
		b = strconv.AppendFloat(b, ev.Value, 'g', -1, 64)
		if ev.Currency != "" {
			b = append(b, `,"currency":`...)
			b = jsontext.AppendString(b, ev.Currency)
		}
	}
	if len(jsontext.Members(ev.Groups)) > 0 {
		b = append(b, `,"groups":`...)
		b = append(b, ev.Groups...)
	}
	b = append(b, `,"timestamp":"`...)
	b = time.UnixMilli(ev.OccurredAt).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, `"}`...)
}

// appendPostHogProperties maps a PostHog event as the engine's own PostHog
// source does: its properties with _posthogEventId, and its $set as the
// contact's properties.
func appendPostHogProperties(b []byte, ev *canonical.Event) []byte {
	b = append(b, `,"eventProperties":{"_posthogEventId":"`...)
	b = append(b, ev.ID.String()...)
	b = append(b, '"')
	if inner := jsontext.Members(ev.Properties); len(inner) > 0 {
		b = append(append(b, ','), inner...)
	}
	b = append(b, '}')
	if set := gjson.GetBytes(ev.Properties, `\$set`); set.IsObject() && len(jsontext.Members([]byte(set.Raw))) > 0 {
		b = append(b, `,"contactProperties":`...)
		b = append(b, set.Raw...)
	}
	return b
}

// appendObject appends a JSON object, "{}" for none.
func appendObject(b, obj []byte) []byte {
	if len(jsontext.Members(obj)) == 0 {
		return append(b, "{}"...)
	}
	return append(b, obj...)
}
