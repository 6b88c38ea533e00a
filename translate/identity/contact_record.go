package identity

import (
	"encoding/binary"
	"unsafe"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// A contact cache record: one key's copy of a contact, written into an
// arena of bytes (contact_cache.go). It lives in memory only, for as long
// as the process, so it carries no version. Layout, little-endian:
//
//	0      rule: the alias rule of the key (cachedKey.rule)
//	1      filled: recordExternal|recordEmail|recordAnonymous, the identity
//	       columns the copy has
//	2..3   key length
//	4..7   record length, all of it
//	8..    the key, kind:value
//	       the contact's id (16 bytes), then Version, FirstSeenAt,
//	       LastSeenAt, CreatedAt, UpdatedAt and DeletedAt (8 bytes each)
//	       ExternalID, Email, AnonymousID, Source and Properties, each a
//	       uvarint length and its bytes; an identity column equal to the
//	       key's value is written as length 0 (filled says it is set)
const (
	recordExternal  = 1 << iota // filled: ExternalID is set
	recordEmail                 // filled: Email is set
	recordAnonymous             // filled: AnonymousID is set
)

const (
	recordHead   = 8         // rule, filled, key length, record length
	recordFixed  = 16 + 6*8  // the id and the six integers
	maxRecordKey = 1<<16 - 1 // a longer key is not cached
)

// recordText lists a contact's text fields in the record's order.
func recordText(c *canonical.Contact) [5]string {
	return [5]string{c.ExternalID, c.Email, c.AnonymousID, c.Source, unsafe.String(unsafe.SliceData(c.Properties), len(c.Properties))}
}

// filledColumns is the record's filled byte for c.
func filledColumns(c *canonical.Contact) byte {
	var f byte
	if c.ExternalID != "" {
		f |= recordExternal
	}
	if c.Email != "" {
		f |= recordEmail
	}
	if c.AnonymousID != "" {
		f |= recordAnonymous
	}
	return f
}

// recordSize is the bytes appendRecord writes for key and c.
func recordSize(key string, c *canonical.Contact) int {
	n := recordHead + len(key) + recordFixed
	value := keyValue(key)
	for i, s := range recordText(c) {
		s = storedText(i, s, value)
		n += uvarintLen(uint64(len(s))) + len(s)
	}
	return n
}

// storedText is what a record writes of its i-th text field s: nothing for
// an identity column equal to the key's value, which filled says is set.
func storedText(i int, s, keyValue string) string {
	if i < 3 && s != "" && s == keyValue {
		return ""
	}
	return s
}

// uvarintLen is the bytes binary.AppendUvarint writes for v.
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// appendRecord appends the record of key's copy of c, whose alias rule is
// rule, to b.
func appendRecord(b []byte, key string, rule byte, c *canonical.Contact) []byte {
	start := len(b)
	b = append(b, rule, filledColumns(c))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(key)))
	b = binary.LittleEndian.AppendUint32(b, 0) // the length, once known
	b = append(b, key...)
	b = append(b, c.ID[:]...)
	for _, v := range [6]uint64{c.Version, uint64(c.FirstSeenAt), uint64(c.LastSeenAt), uint64(c.CreatedAt), uint64(c.UpdatedAt), uint64(c.DeletedAt)} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	value := keyValue(key)
	for i, s := range recordText(c) {
		s = storedText(i, s, value)
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	binary.LittleEndian.PutUint32(b[start+4:], uint32(len(b)-start))
	return b
}

// keyValue is the value part of a cache key, kind:value.
func keyValue(key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] == ':' {
			return key[i+1:]
		}
	}
	return ""
}

// recordLen is the length of the record starting rec.
func recordLen(rec []byte) int { return int(binary.LittleEndian.Uint32(rec[4:])) }

// recordKey is the key of rec.
func recordKey(rec []byte) []byte {
	return rec[recordHead : recordHead+int(binary.LittleEndian.Uint16(rec[2:]))]
}

// recordFields is the part of rec after its key: id, integers, text.
func recordFields(rec []byte) []byte { return rec[recordHead+len(recordKey(rec)):] }

func recordID(rec []byte) uuid.UUID { return uuid.UUID(recordFields(rec)[:16]) }

func recordVersion(rec []byte) uint64 { return binary.LittleEndian.Uint64(recordFields(rec)[16:]) }

// decodeRecord fills c from rec with one allocation: the text fields are
// copied into one buffer they share, so that nothing of c points into the
// arena, which is written over once the record's generation is dropped.
func decodeRecord(rec []byte, c *canonical.Contact) {
	f := recordFields(rec)
	c.ID = uuid.UUID(f[:16])
	ints := f[16:recordFixed]
	c.Version = binary.LittleEndian.Uint64(ints)
	c.FirstSeenAt, c.LastSeenAt = int64(binary.LittleEndian.Uint64(ints[8:])), int64(binary.LittleEndian.Uint64(ints[16:]))
	c.CreatedAt, c.UpdatedAt = int64(binary.LittleEndian.Uint64(ints[24:])), int64(binary.LittleEndian.Uint64(ints[32:]))
	c.DeletedAt = int64(binary.LittleEndian.Uint64(ints[40:]))
	text := recordTextOf(rec)
	size := 0
	for _, t := range text {
		size += len(t)
	}
	buf := make([]byte, 0, size)
	var out [5]string
	for i, t := range text {
		if len(t) == 0 {
			continue
		}
		start := len(buf)
		buf = append(buf, t...)
		out[i] = unsafe.String(&buf[start], len(t))
	}
	c.ExternalID, c.Email, c.AnonymousID, c.Source = out[0], out[1], out[2], out[3]
	c.Properties = nil
	if n := len(text[4]); n > 0 {
		c.Properties = buf[size-n : size : size]
	}
}

// recordTextOf is rec's five text fields as views of rec, an identity
// column written as the key's value restored from the key.
func recordTextOf(rec []byte) [5][]byte {
	filled := rec[1]
	key := recordKey(rec)
	value := key[len(key)-len(keyValue(unsafe.String(unsafe.SliceData(key), len(key)))):]
	p := recordFields(rec)[recordFixed:]
	var text [5][]byte
	for i := range text {
		n, w := binary.Uvarint(p)
		text[i], p = p[w:w+int(n)], p[w+int(n):]
		if i < 3 && n == 0 && filled&(1<<i) != 0 {
			text[i] = value
		}
	}
	return text
}
