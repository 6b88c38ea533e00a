package ingest

import (
	"context"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/native"
)

// UpsertResult answers PUT /v1/contacts.
type UpsertResult struct {
	ID      uuid.UUID
	Created bool
	Linked  bool
	// Call is the id of the write's engine call, uuid.Nil when none.
	Call uuid.UUID
}

// EventResult answers POST /v1/events.
type EventResult struct {
	Stored     bool
	ContactKey string
	ListsError string
	// Call is the id of the write's engine call, uuid.Nil when none.
	Call uuid.UUID
}

// identityKeys are a request's identity keys, appended to keys.
func identityKeys(keys []identity.Key, email, userID, anonymousID string) []identity.Key {
	if userID != "" {
		keys = append(keys, identity.Key{Kind: canonical.KindExternal, Value: userID})
	}
	if email != "" {
		keys = append(keys, identity.Key{Kind: canonical.KindEmail, Value: email})
	}
	if anonymousID != "" {
		keys = append(keys, identity.Key{Kind: canonical.KindAnonymous, Value: anonymousID})
	}
	return keys
}

// addLists records list flags; it needs an email on record.
func addLists(b *canonical.Batch, c *canonical.Contact, lists []native.ListFlag, now int64) error {
	if c.Email == "" {
		return ErrNoEmailForLists
	}
	for _, l := range lists {
		b.Lists = append(b.Lists, canonical.ListMembership{
			ContactID: c.ID, Email: c.Email, ListID: l.ID, Subscribed: l.Subscribed, Version: c.Version, At: now,
		})
	}
	return nil
}

// UpsertContact resolves or creates the contact and merges its properties.
// The list error, if any, comes after the contact change is durable, as
// upstream answers it after its commit. A publishable caller's anonymous write
// may not touch an identified contact.
func (in *Ingestor) UpsertContact(ctx context.Context, u native.ContactUpsert, publishable bool) (UpsertResult, error) {
	if err := in.admit(ctx); err != nil {
		return UpsertResult{}, err
	}
	now := in.now().UnixMilli()
	res, err := in.resolve(identity.ResolveOp{
		Keys:             identityKeys(make([]identity.Key, 0, 3), u.Email, u.UserID, u.AnonymousID),
		Set:              u.Properties,
		NewID:            newContactID(),
		Now:              now,
		RefuseIdentified: publishable && u.Email == "" && u.UserID == "",
	})
	if err != nil {
		return UpsertResult{}, err
	}
	if res.Refused {
		return UpsertResult{}, apikeys.ErrAnonymousIdentified
	}
	w := write{found: []*identity.ResolveResult{&res}}
	w.addRows(&res)
	var listErr error
	if u.HasLists {
		listErr = addLists(&w.batch, &res.Contact, u.Lists, now)
	}
	out := UpsertResult{ID: res.Contact.ID, Created: res.Created, Linked: res.Linked}
	if in.engineCalls && (u.Email != "" || u.UserID != "") {
		call := upsertCall(&u, res.Contact.ID)
		w.batch.Calls, out.Call = append(w.batch.Calls, call), call.ID
	}
	if err := in.commitWrite(ctx, &w); err != nil {
		return UpsertResult{}, err
	}
	return out, listErr
}

// TrackEvent resolves the contact (creating it when needed), claims the
// idempotency key and stores the event. A duplicate still touches the contact,
// as upstream does, but stores no event.
//
// A publishable (pk_) caller writing anonymously may not touch an identified
// contact, and an anonymous event with no value and no groups is an
// observation: it creates no contact and is stored under the anonymous id.
func (in *Ingestor) TrackEvent(ctx context.Context, e native.EventInput, source string, publishable bool) (EventResult, error) {
	if err := in.admit(ctx); err != nil {
		return EventResult{}, err
	}
	received := in.now().UnixMilli()
	r := new(eventRecords)
	op := in.eventOp(&e, r, source, received, publishable)
	var err error
	if r.res, err = in.resolve(op); err != nil {
		return EventResult{}, err
	}
	if r.res.Refused {
		return EventResult{}, apikeys.ErrAnonymousIdentified
	}
	w, out := in.eventWrite(&e, &op, r, source, received, publishable)
	if err := in.commitWrite(ctx, &w); err != nil {
		return EventResult{}, err
	}
	if n := len(w.batch.Calls); n > 0 && w.batch.Calls[n-1].Kind == canonical.CallEvent {
		out.Call = w.batch.Calls[n-1].ID
	}
	return out, nil
}

// eventWrite is the build stage of a native event: the records its
// resolve r.res calls for, and the answer so far.
func (in *Ingestor) eventWrite(e *native.EventInput, op *identity.ResolveOp, r *eventRecords, source string, received int64, publishable bool) (write, EventResult) {
	res := &r.res
	out := EventResult{Stored: !res.Duplicate && !res.ClaimPending, ContactKey: e.AnonymousID}
	w := write{claimPending: res.ClaimPending, found: r.found[:0], added: r.added[:0]}
	w.batch.Contacts, w.batch.Events = r.contacts[:0], r.events[:0]
	if res.Found {
		out.ContactKey = r.contactKey(&res.Contact)
		w.found = append(w.found, res)
		if in.rows.needed(res, len(e.ContactProperties) > 0) {
			w.addRows(res)
		}
	} // else an observation only: no contact, stored under the anonymous id
	if out.Stored {
		w.batch.Events = append(w.batch.Events, nativeEvent(e, res, out.ContactKey, source, received))
		if op.IdempotencyKey != "" {
			w.claimed = append(r.claimed[:0], op.IdempotencyKey)
		}
	}
	// A publishable caller's list write that asserts an identity is skipped.
	if e.HasLists && !(publishable && (e.Email != "" || e.UserID != "")) {
		if err := addLists(&w.batch, &res.Contact, e.Lists, received); err != nil {
			out.ListsError = err.Error()
		}
	}
	in.nativeEventCalls(&w, e, res)
	return w, out
}

// eventOp is the resolve of a native event's person, with its idempotency
// claim.
func (in *Ingestor) eventOp(e *native.EventInput, r *eventRecords, source string, received int64, publishable bool) identity.ResolveOp {
	anonymous := publishable && e.Email == "" && e.UserID == ""
	op := identity.ResolveOp{
		Keys:             identityKeys(r.keys[:0], e.Email, e.UserID, e.AnonymousID),
		Set:              e.ContactProperties,
		NewID:            newContactID(),
		Source:           source,
		Now:              received,
		RefuseIdentified: anonymous,
		NoCreate:         anonymous && !e.HasValue && isEmptyObject(e.Groups),
	}
	if e.IdempotencyKey != "" {
		op.IdempotencyKey, op.IdempotencyWindow = e.IdempotencyKey, in.window
	}
	return op
}

// nativeEvent is the stored row of a native event.
func nativeEvent(e *native.EventInput, res *identity.ResolveResult, contactKey, source string, received int64) canonical.Event {
	occurred := e.Timestamp
	if occurred == 0 {
		occurred = received
	}
	return canonical.Event{
		ID: newEventID(), Name: e.Name, UserID: contactKey, ContactID: res.Contact.ID,
		Properties: e.EventProperties, HasValue: e.HasValue, Value: e.Value, Currency: e.Currency,
		Groups: e.Groups, Source: source, IdempotencyKey: e.IdempotencyKey,
		OccurredAt: occurred, ReceivedAt: received,
	}
}

// FindContacts returns the live contacts matching either key.
func (in *Ingestor) FindContacts(ctx context.Context, k native.ContactKeys) ([]canonical.Contact, error) {
	cs, err := in.store.Find(ctx, k.Email, k.UserID)
	if err != nil {
		return nil, storeDown("find contacts", err)
	}
	return cs, nil
}

// DeleteContacts soft-deletes the matching contacts and drops their aliases,
// then hands the delete off to the engine when there is one; it returns the
// engine call's id (uuid.Nil when none). A delete that cannot be made
// durable is kept with the identity rows of failed writes (keepDeleted), and
// its retry answers for it (retriedDelete).
func (in *Ingestor) DeleteContacts(ctx context.Context, k native.ContactKeys) (uuid.UUID, error) {
	if err := in.admit(ctx); err != nil {
		return uuid.Nil, err
	}
	contact, err := in.deleteLocal(ctx, k)
	return in.deleteCall(ctx, k, err, contact)
}

// deleteLocal is the proxy's own delete; it returns the first contact
// deleted.
func (in *Ingestor) deleteLocal(ctx context.Context, k native.ContactKeys) (uuid.UUID, error) {
	deleted, tombstones, err := in.store.Delete(ctx, k.Email, k.UserID, in.now().UnixMilli())
	if err != nil {
		return uuid.Nil, storeDown("delete contacts", err)
	}
	if len(deleted) == 0 {
		return uuid.Nil, in.retriedDelete(ctx, k)
	}
	b := canonical.Batch{Contacts: deleted, Aliases: tombstones}
	ids := make([]uuid.UUID, len(deleted))
	for i := range deleted {
		ids[i] = deleted[i].ID
	}
	carried := in.pending.carry(&b, ids)
	if err := in.commit(ctx, &b); err != nil {
		in.keepDeleted(ctx, err, deleted, tombstones)
		return uuid.Nil, err
	}
	if carried {
		in.pending.settle(&b)
	}
	return ids[0], nil
}

// isEmptyObject reports a JSON object with no members.
func isEmptyObject(b []byte) bool {
	empty := true
	gjson.ParseBytes(b).ForEach(func(_, _ gjson.Result) bool {
		empty = false
		return false
	})
	return empty
}
