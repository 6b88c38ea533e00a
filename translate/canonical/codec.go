package canonical

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/google/uuid"
)

// The spool encoding of a Batch: a version byte, then six record groups, each a
// uvarint count followed by its records. Strings and byte slices are uvarint-length
// prefixed, integers are varints, uuids are 16 raw bytes. Decoding copies nothing but
// strings, so a decoded Batch may alias the input for its []byte fields.
//
// Version 2 added Event.SecretToken at the end of an event; version 1 records
// (spooled or dead-lettered before it) still decode, with SecretToken false.
// Version 3 added Event.Token and Event.TopLevel at the end of an event and
// the sixth group, the engine calls; version 1 and 2 records decode with
// none of them.

const (
	codecVersion   = 3
	codecVersionV2 = 2
	codecVersionV1 = 1
)

// AppendBatch appends the encoding of b to dst.
func AppendBatch(dst []byte, b *Batch) []byte {
	dst = append(dst, codecVersion)
	dst = binary.AppendUvarint(dst, uint64(len(b.Events)))
	for i := range b.Events {
		dst = appendEvent(dst, &b.Events[i])
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Contacts)))
	for i := range b.Contacts {
		dst = appendContact(dst, &b.Contacts[i])
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Aliases)))
	for i := range b.Aliases {
		dst = appendAlias(dst, &b.Aliases[i])
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.APIKeys)))
	for i := range b.APIKeys {
		dst = appendAPIKey(dst, &b.APIKeys[i])
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Lists)))
	for i := range b.Lists {
		dst = appendList(dst, &b.Lists[i])
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Calls)))
	for i := range b.Calls {
		dst = appendCall(dst, &b.Calls[i])
	}
	return dst
}

func appendCall(dst []byte, c *EngineCall) []byte {
	dst = append(dst, c.ID[:]...)
	dst = append(dst, c.Kind)
	dst = append(dst, c.ContactID[:]...)
	dst = appendBytes(dst, c.Body)
	return appendBool(dst, c.Awaited)
}

func appendEvent(dst []byte, e *Event) []byte {
	dst = append(dst, e.ID[:]...)
	dst = appendString(dst, e.Name)
	dst = appendString(dst, e.UserID)
	dst = append(dst, e.ContactID[:]...)
	dst = appendBytes(dst, e.Properties)
	dst = appendBool(dst, e.HasValue)
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(e.Value))
	dst = appendString(dst, e.Currency)
	dst = appendBytes(dst, e.Groups)
	dst = appendString(dst, e.Source)
	dst = appendString(dst, e.IdempotencyKey)
	dst = appendString(dst, e.DistinctID)
	dst = appendString(dst, e.Lib)
	dst = appendString(dst, e.IP)
	dst = binary.AppendVarint(dst, e.OccurredAt)
	dst = binary.AppendVarint(dst, e.ReceivedAt)
	dst = appendBool(dst, e.Historical)
	dst = appendBool(dst, e.SecretToken)
	dst = appendString(dst, e.Token)
	return appendBytes(dst, e.TopLevel)
}

func appendContact(dst []byte, c *Contact) []byte {
	dst = append(dst, c.ID[:]...)
	dst = appendString(dst, c.ExternalID)
	dst = appendString(dst, c.Email)
	dst = appendString(dst, c.AnonymousID)
	dst = appendBytes(dst, c.Properties)
	dst = appendString(dst, c.Source)
	dst = binary.AppendVarint(dst, c.FirstSeenAt)
	dst = binary.AppendVarint(dst, c.LastSeenAt)
	dst = binary.AppendVarint(dst, c.CreatedAt)
	dst = binary.AppendVarint(dst, c.UpdatedAt)
	dst = binary.AppendVarint(dst, c.DeletedAt)
	return binary.AppendUvarint(dst, c.Version)
}

func appendAlias(dst []byte, a *Alias) []byte {
	dst = appendString(dst, a.Kind)
	dst = appendString(dst, a.Value)
	dst = append(dst, a.ContactID[:]...)
	dst = append(dst, a.FromContactID[:]...)
	dst = appendString(dst, a.Reason)
	dst = appendBool(dst, a.Deleted)
	dst = binary.AppendUvarint(dst, a.Version)
	return binary.AppendVarint(dst, a.At)
}

func appendAPIKey(dst []byte, k *APIKey) []byte {
	dst = appendString(dst, k.Hash)
	dst = appendString(dst, k.Prefix)
	dst = appendString(dst, k.Name)
	dst = binary.AppendUvarint(dst, uint64(len(k.Scopes)))
	for _, s := range k.Scopes {
		dst = appendString(dst, s)
	}
	dst = binary.AppendVarint(dst, k.CreatedAt)
	dst = binary.AppendVarint(dst, k.ExpiresAt)
	dst = binary.AppendVarint(dst, k.RevokedAt)
	dst = binary.AppendUvarint(dst, uint64(len(k.AllowedOrigins)))
	for _, o := range k.AllowedOrigins {
		dst = appendString(dst, o)
	}
	return dst
}

func appendList(dst []byte, l *ListMembership) []byte {
	dst = append(dst, l.ContactID[:]...)
	dst = appendString(dst, l.Email)
	dst = appendString(dst, l.ListID)
	dst = appendBool(dst, l.Subscribed)
	dst = binary.AppendUvarint(dst, l.Version)
	return binary.AppendVarint(dst, l.At)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// ErrCorrupt is returned for input that is not a valid encoding.
var ErrCorrupt = errors.New("corrupt canonical batch")

// DecodeBatch decodes src into b (which is reset first). []byte fields of the
// result alias src.
func DecodeBatch(src []byte, b *Batch) error {
	b.Reset()
	d := decoder{buf: src}
	switch v := d.byte(); {
	case d.err != nil:
		return d.err
	case v == codecVersionV1:
		d.v1, d.noCalls = true, true
	case v == codecVersionV2:
		d.noCalls = true
	case v != codecVersion:
		return fmt.Errorf("%w: unknown version %d", ErrCorrupt, v)
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		b.Events = append(b.Events, Event{})
		d.event(&b.Events[len(b.Events)-1])
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		b.Contacts = append(b.Contacts, Contact{})
		d.contact(&b.Contacts[len(b.Contacts)-1])
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		b.Aliases = append(b.Aliases, Alias{})
		d.alias(&b.Aliases[len(b.Aliases)-1])
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		b.APIKeys = append(b.APIKeys, APIKey{})
		d.apiKey(&b.APIKeys[len(b.APIKeys)-1])
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		b.Lists = append(b.Lists, ListMembership{})
		d.list(&b.Lists[len(b.Lists)-1])
	}
	if !d.noCalls {
		for n := d.count(); n > 0 && d.err == nil; n-- {
			b.Calls = append(b.Calls, EngineCall{})
			d.call(&b.Calls[len(b.Calls)-1])
		}
	}
	if d.err == nil && len(d.buf) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.buf))
	}
	return d.err
}

type decoder struct {
	buf []byte
	err error
	v1  bool // a version 1 record: events end at Historical
	// noCalls: a version 1 or 2 record: no event token, no engine calls.
	noCalls bool
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
	}
	d.buf = nil
}

func (d *decoder) byte() byte {
	if len(d.buf) < 1 {
		d.fail("byte")
		return 0
	}
	v := d.buf[0]
	d.buf = d.buf[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// count reads a record count, bounded by the bytes left so corrupt input cannot
// make us allocate without limit.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.buf)) {
		d.fail("count")
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.buf)) {
		d.fail("bytes")
		return nil
	}
	v := d.buf[:n:n]
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) uuid() (u uuid.UUID) {
	if len(d.buf) < 16 {
		d.fail("uuid")
		return u
	}
	copy(u[:], d.buf)
	d.buf = d.buf[16:]
	return u
}

func (d *decoder) bool() bool { return d.byte() == 1 }

func (d *decoder) float64() float64 {
	if len(d.buf) < 8 {
		d.fail("float64")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.buf))
	d.buf = d.buf[8:]
	return v
}

func (d *decoder) event(e *Event) {
	e.ID = d.uuid()
	e.Name = d.string()
	e.UserID = d.string()
	e.ContactID = d.uuid()
	e.Properties = d.bytes()
	e.HasValue = d.bool()
	e.Value = d.float64()
	e.Currency = d.string()
	e.Groups = d.bytes()
	e.Source = d.string()
	e.IdempotencyKey = d.string()
	e.DistinctID = d.string()
	e.Lib = d.string()
	e.IP = d.string()
	e.OccurredAt = d.varint()
	e.ReceivedAt = d.varint()
	e.Historical = d.bool()
	if !d.v1 {
		e.SecretToken = d.bool()
	}
	if !d.noCalls {
		e.Token = d.string()
		if top := d.bytes(); len(top) > 0 {
			e.TopLevel = top // nil for none, as ingestion writes it
		}
	}
}

func (d *decoder) contact(c *Contact) {
	c.ID = d.uuid()
	c.ExternalID = d.string()
	c.Email = d.string()
	c.AnonymousID = d.string()
	c.Properties = d.bytes()
	c.Source = d.string()
	c.FirstSeenAt = d.varint()
	c.LastSeenAt = d.varint()
	c.CreatedAt = d.varint()
	c.UpdatedAt = d.varint()
	c.DeletedAt = d.varint()
	c.Version = d.uvarint()
}

func (d *decoder) alias(a *Alias) {
	a.Kind = d.string()
	a.Value = d.string()
	a.ContactID = d.uuid()
	a.FromContactID = d.uuid()
	a.Reason = d.string()
	a.Deleted = d.bool()
	a.Version = d.uvarint()
	a.At = d.varint()
}

func (d *decoder) apiKey(k *APIKey) {
	k.Hash = d.string()
	k.Prefix = d.string()
	k.Name = d.string()
	n := d.count()
	k.Scopes = make([]string, 0, n)
	for ; n > 0 && d.err == nil; n-- {
		k.Scopes = append(k.Scopes, d.string())
	}
	k.CreatedAt = d.varint()
	k.ExpiresAt = d.varint()
	k.RevokedAt = d.varint()
	if n := d.count(); n > 0 {
		k.AllowedOrigins = make([]string, 0, n)
		for ; n > 0 && d.err == nil; n-- {
			k.AllowedOrigins = append(k.AllowedOrigins, d.string())
		}
	}
}

func (d *decoder) list(l *ListMembership) {
	l.ContactID = d.uuid()
	l.Email = d.string()
	l.ListID = d.string()
	l.Subscribed = d.bool()
	l.Version = d.uvarint()
	l.At = d.varint()
}

func (d *decoder) call(c *EngineCall) {
	c.ID = d.uuid()
	c.Kind = d.byte()
	c.ContactID = d.uuid()
	c.Body = d.bytes()
	c.Awaited = d.bool()
}
