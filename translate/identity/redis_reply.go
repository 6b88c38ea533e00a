package identity

import (
	"errors"
	"slices"
	"strconv"
	"unsafe"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

var errBadReply = errors.New("malformed script reply")

func asSlice(v any) []any {
	a, _ := v.([]any)
	return a
}

// replyReader decodes the flat arrays the scripts return. The first problem
// sticks in err; later reads return zero values.
type replyReader struct {
	a   []any
	i   int
	err error
}

func (d *replyReader) str() string {
	if d.err != nil {
		return ""
	}
	if d.i >= len(d.a) {
		d.err = errBadReply
		return ""
	}
	v := d.a[d.i]
	d.i++
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	}
	d.err = errBadReply
	return ""
}

func (d *replyReader) int() int64 {
	s := d.str()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && d.err == nil {
		d.err = errBadReply
	}
	return n
}

func (d *replyReader) bool() bool { return d.str() == "1" }

// count reads a length prefix, bounded by what is left of the reply.
func (d *replyReader) count() int {
	n := d.int()
	if n < 0 || n > int64(len(d.a)) {
		d.err = errBadReply
		return 0
	}
	return int(n)
}

func (d *replyReader) uuid() uuid.UUID {
	s := d.str()
	if s == "" {
		return uuid.Nil
	}
	id, err := uuid.Parse(s)
	if err != nil && d.err == nil {
		d.err = errBadReply
	}
	return id
}

// contact decodes a contact block (see appendContact in lua/lib.lua). The
// properties hash arrives in hash order; it is sorted by name so that the JSON
// matches the memory store byte for byte.
func (d *replyReader) contact(c *canonical.Contact) {
	c.ID = d.uuid()
	c.ExternalID = d.str()
	c.Email = d.str()
	c.AnonymousID = d.str()
	c.Source = d.str()
	c.FirstSeenAt = d.int()
	c.LastSeenAt = d.int()
	c.CreatedAt = d.int()
	c.UpdatedAt = d.int()
	c.DeletedAt = d.int()
	c.Version = uint64(d.int())
	n := d.count()
	if d.err != nil || d.i+2*n > len(d.a) {
		d.err = errBadReply
		return
	}
	var buf [32]prop
	ps := buf[:0]
	size := 2
	for range n {
		name, val := d.str(), d.str()
		if len(name) == 0 || name[0] != '.' {
			d.err = errBadReply
			return
		}
		name = name[1:] // property fields are '.'-prefixed in the contact hash
		ps = append(ps, prop{name: name, raw: unsafeBytes(val)})
		size += len(name) + len(val) + 4
	}
	sortProps(ps)
	c.Properties = propList(ps).appendJSON(make([]byte, 0, size))
}

// sortProps sorts by name; insertion sort for the usual handful of
// properties avoids the allocation of a generic sort's closure.
func sortProps(ps []prop) {
	if len(ps) > 32 {
		slices.SortFunc(ps, func(a, b prop) int {
			switch {
			case a.name < b.name:
				return -1
			case a.name > b.name:
				return 1
			}
			return 0
		})
		return
	}
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].name < ps[j-1].name; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// aliasRows decodes n alias 5-tuples (kind value contactID fromID reason).
func (d *replyReader) aliasRows(version uint64, at int64) []canonical.Alias {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]canonical.Alias, n)
	for i := range out {
		out[i] = canonical.Alias{
			Kind: d.str(), Value: d.str(), ContactID: d.uuid(), FromContactID: d.uuid(),
			Reason: d.str(), Version: version, At: at,
		}
	}
	return out
}

// unsafeBytes views s as bytes without copying; the result must not be written.
func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
