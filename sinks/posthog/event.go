package posthog

import (
	"bytes"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

// Event is one event as the mirror sends it: its JSON in a /batch/ body,
// and what groups it into a batch.
type Event struct {
	UUID       string
	Token      string
	Historical bool
	JSON       []byte
}

// captureEvent is a PostHog event as PostHog would have got it from the
// client: its uuid, name, distinct id, time, properties with $ip set to the
// client's address, and its top-level $set and $set_once.
func captureEvent(ev *canonical.Event, token string) Event {
	b := make([]byte, 0, len(ev.Properties)+len(ev.TopLevel)+160)
	b = append(b, `{"uuid":"`...)
	b = append(b, ev.ID.String()...)
	b = append(b, `","event":`...)
	b = jsontext.AppendString(b, ev.Name)
	b = append(b, `,"distinct_id":`...)
	b = jsontext.AppendString(b, ev.DistinctID)
	b = append(b, `,"timestamp":"`...)
	b = time.UnixMilli(ev.OccurredAt).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, '"')
	if inner := jsontext.Members(ev.TopLevel); len(inner) > 0 {
		b = append(append(b, ','), inner...)
	}
	b = append(b, `,"properties":`...)
	b = appendProperties(b, ev.Properties, ev.IP)
	b = append(b, '}')
	return Event{UUID: ev.ID.String(), Token: token, Historical: ev.Historical, JSON: b}
}

// nativeEvent is a native event as Hogsend mirrors its own: captured under
// the person's id (distinctID), never for events that came from PostHog.
func nativeEvent(ev *canonical.Event, distinctID, token string) Event {
	e := *ev
	e.DistinctID, e.TopLevel = distinctID, nil
	return captureEvent(&e, token)
}

// appendProperties writes props with "$ip" set to ip (the proxy is the
// client PostHog sees), any $ip the client sent replaced. Properties
// without an $ip (most) are spliced, not walked.
func appendProperties(b, props []byte, ip string) []byte {
	inner := jsontext.Members(props)
	switch {
	case ip == "" && inner == nil:
		return append(b, "{}"...)
	case ip == "":
		return append(b, props...)
	case !bytes.Contains(inner, ipKey):
		b = append(b, `{"$ip":`...)
		b = jsontext.AppendString(b, ip)
		if inner != nil {
			b = append(append(b, ','), inner...)
		}
		return append(b, '}')
	}
	return appendReplacingIP(b, props, ip)
}

// ipKey is how "$ip" appears as a key in the properties ingestion stored
// (compact JSON as the client sent it; an escaped spelling is walked).
var ipKey = []byte(`"$ip"`)

// appendReplacingIP walks props to drop the client's $ip.
func appendReplacingIP(b, props []byte, ip string) []byte {
	b = append(b, '{')
	n := 0
	if ip != "" {
		b = append(b, `"$ip":`...)
		b = jsontext.AppendString(b, ip)
		n++
	}
	gjson.ParseBytes(props).ForEach(func(k, v gjson.Result) bool {
		if k.Str == "$ip" && ip != "" {
			return true
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, k.Raw...)
		b = append(b, ':')
		b = append(b, v.Raw...)
		n++
		return true
	})
	return append(b, '}')
}

// nativeDistinctID is the person a native event is mirrored under: their
// userId, else their email, as the hand-off's call names them; without a
// call, the contact's key (userId, else anonymous id, else contact id).
func nativeDistinctID(b *canonical.Batch, ev *canonical.Event) string {
	for i := range b.Calls {
		if c := &b.Calls[i]; c.ID == ev.ID {
			if id := gjson.GetBytes(c.Body, "userId").Str; id != "" {
				return id
			}
			if email := gjson.GetBytes(c.Body, "email").Str; email != "" {
				return email
			}
		}
	}
	return ev.UserID
}
