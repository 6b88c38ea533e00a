package ingest

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
	"github.com/hogsend/hogsend-proxy/translate/native"
)

// The hand-off to a Hogsend engine (docs/upstream.md § 3) speaks with a
// secret ingest key, which the engine lets act only on an email or a userId:
// writes that name neither (a publishable key's anonymous writes, PostHog
// events of anonymous persons) stay here.

// jsonObject writes one JSON object, member by member.
type jsonObject struct{ b []byte }

func (o *jsonObject) key(k string) {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.b = jsontext.AppendString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *jsonObject) str(k, v string) {
	if v != "" {
		o.key(k)
		o.b = jsontext.AppendString(o.b, v)
	}
}

// raw adds a member whose value is JSON text already.
func (o *jsonObject) raw(k string, v []byte) {
	o.key(k)
	o.b = append(o.b, v...)
}

func (o *jsonObject) props(k string, props []identity.Prop) {
	if len(props) == 0 {
		return
	}
	var inner jsonObject
	for _, p := range props {
		v := p.Value
		if len(v) == 0 {
			v = []byte("null") // a removal
		}
		inner.raw(p.Name, v)
	}
	o.raw(k, inner.bytes())
}

func (o *jsonObject) lists(lists []native.ListFlag, has bool) {
	if !has {
		return
	}
	var inner jsonObject
	for _, l := range lists {
		v := []byte("false")
		if l.Subscribed {
			v = []byte("true")
		}
		inner.raw(l.ID, v)
	}
	o.raw("lists", inner.bytes())
}

func (o *jsonObject) bytes() []byte {
	if len(o.b) == 0 {
		return []byte("{}")
	}
	return append(o.b, '}')
}

// identityBody starts a body with the identity keys of a write.
func identityBody(email, userID, anonymousID string) jsonObject {
	var o jsonObject
	o.str("userId", userID)
	o.str("email", email)
	o.str("anonymousId", anonymousID)
	return o
}

// upsertCall is PUT /v1/contacts as the client sent it, without its
// userToken (the hand-off's key is a secret one).
func upsertCall(u *native.ContactUpsert, contact uuid.UUID) canonical.EngineCall {
	o := identityBody(u.Email, u.UserID, u.AnonymousID)
	o.props("properties", u.Properties)
	o.lists(u.Lists, u.HasLists)
	return canonical.EngineCall{ID: mustV7(), Kind: canonical.CallUpsert, ContactID: contact, Body: o.bytes(), Awaited: true}
}

// eventCall holds what a stored native event's row does not: its
// identity keys, contactProperties and lists.
func eventCall(e *native.EventInput, ev *canonical.Event) canonical.EngineCall {
	o := identityBody(e.Email, e.UserID, e.AnonymousID)
	o.props("contactProperties", e.ContactProperties)
	o.lists(e.Lists, e.HasLists)
	return canonical.EngineCall{ID: ev.ID, Kind: canonical.CallEvent, ContactID: ev.ContactID, Body: o.bytes(), Awaited: true}
}

// duplicateCall carries a duplicate event's contact changes, which the
// engine applies to a duplicate too, as an upsert.
func duplicateCall(e *native.EventInput, contact uuid.UUID) (canonical.EngineCall, bool) {
	if len(e.ContactProperties) == 0 && !e.HasLists {
		return canonical.EngineCall{}, false
	}
	u := native.ContactUpsert{Email: e.Email, UserID: e.UserID, AnonymousID: e.AnonymousID,
		Properties: e.ContactProperties, Lists: e.Lists, HasLists: e.HasLists}
	return upsertCall(&u, contact), true
}

// callBodies builds the calls of one capture request, sharing a person's
// identity body among that person's events: a browser's flush is fifty
// events of one person.
type callBodies struct {
	person int // the op whose body is held; valid when body is set
	body   []byte
}

// captureCall is a PostHog event of a person the engine can name: its
// userId and email as the contact has them now. person is the contact's
// op in the request.
func (b *callBodies) captureCall(ev *canonical.Event, person int, c *canonical.Contact) (canonical.EngineCall, bool) {
	if ev.Historical || c.ExternalID == "" && c.Email == "" {
		return canonical.EngineCall{}, false
	}
	if b.body == nil || b.person != person {
		o := identityBody(c.Email, c.ExternalID, "")
		b.person, b.body = person, o.bytes()
	}
	return canonical.EngineCall{ID: ev.ID, Kind: canonical.CallEvent, ContactID: c.ID, Body: b.body}, true
}

// nativeEventCalls adds the hand-off of a native event: the event itself
// when stored, else its contact changes.
func (in *Ingestor) nativeEventCalls(w *write, e *native.EventInput, res *identity.ResolveResult) {
	if !in.engineCalls || e.Email == "" && e.UserID == "" {
		return
	}
	if n := len(w.batch.Events); n > 0 {
		w.batch.Calls = append(w.batch.Calls, eventCall(e, &w.batch.Events[n-1]))
		return
	}
	if call, ok := duplicateCall(e, res.Contact.ID); ok {
		w.batch.Calls = append(w.batch.Calls, call)
	}
}

// dropEventCalls removes the calls of events a write no longer stores.
func dropEventCalls(b *canonical.Batch) {
	calls := b.Calls[:0]
	for _, c := range b.Calls {
		if c.Kind != canonical.CallEvent {
			calls = append(calls, c)
		}
	}
	b.Calls = calls
}

// deleteCall makes the hand-off of DELETE /v1/contacts durable after the
// local delete, found or not: the engine may hold contacts the proxy never
// saw. It returns the call's id.
func (in *Ingestor) deleteCall(ctx context.Context, k native.ContactKeys, local error, contact uuid.UUID) (uuid.UUID, error) {
	if !in.engineCalls || local != nil && !errors.Is(local, ErrContactNotFound) {
		return uuid.Nil, local
	}
	o := identityBody(k.Email, k.UserID, "")
	call := canonical.EngineCall{ID: mustV7(), Kind: canonical.CallDelete, ContactID: contact, Body: o.bytes(), Awaited: true}
	if err := in.commit(ctx, &canonical.Batch{Calls: []canonical.EngineCall{call}}); err != nil {
		return uuid.Nil, err
	}
	return call.ID, local
}
