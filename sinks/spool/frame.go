package spool

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// Every entry on disk is framed as
//
//	uint32 length | uint32 CRC-32C(payload) | payload
//
// in little endian. The length lets a reader skip to the next frame without
// parsing the payload; the checksum tells a torn or bit-rotted frame from a
// good one, which is what recovery and readers rely on to never hand out half
// a request.

const (
	frameHeaderSize = 8

	// MaxPayloadBytes caps one entry. Requests are size-limited long before
	// this; the cap exists so a corrupt length field can never make a reader
	// allocate gigabytes, and recovery can tell garbage from a real frame.
	MaxPayloadBytes = 64 << 20
)

// castagnoli is read-only after package init; crc32 picks the SSE4.2/ARM64
// instruction when available.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrTooLarge is returned by Append for payloads over MaxPayloadBytes.
	ErrTooLarge = errors.New("spool: payload exceeds maximum entry size")
	// ErrEmpty is returned by Append for a zero-length payload.
	ErrEmpty = errors.New("spool: empty payload")
	// ErrCorrupt is wrapped by Reader.Next when a frame in the log fails its
	// length or checksum validation.
	ErrCorrupt = errors.New("spool: corrupt record")
)

// appendFrame appends the framed payload to dst.
func appendFrame(dst, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(payload, castagnoli))
	return append(dst, payload...)
}

// frameHeader decodes the header at the start of b, which must hold at least
// frameHeaderSize bytes.
func frameHeader(b []byte) (length int64, sum uint32) {
	return int64(binary.LittleEndian.Uint32(b)), binary.LittleEndian.Uint32(b[4:])
}

// validLength reports whether a frame header's length can belong to a frame
// Append wrote.
func validLength(length int64) bool {
	return length > 0 && length <= MaxPayloadBytes
}

// validPayload reports whether payload matches the checksum from its header,
// in a segment whose frames carry salt (segmentSalt).
func validPayload(payload []byte, sum, salt uint32) bool {
	return crc32.Checksum(payload, castagnoli)^salt == sum
}

// segmentSalt is XORed into the checksum of every frame of a segment of
// format version 2 or later. Segment files are reused for later segments
// (see recycle), so a file holds frames of its former segment past the new
// one's data; those frames are valid under their own segment's salt and
// fail under the new one's, so neither recovery nor a reader can take one for
// a new frame. Multiplying by an odd constant is a bijection on 32 bits: two
// segments less than 2^32 apart never share a salt.
func segmentSalt(version byte, seq uint64) uint32 {
	if version < 2 {
		return 0
	}
	return uint32(seq) * 0x9E3779B1
}

// saltFrame applies salt to the checksum of the frame at the start of b.
func saltFrame(b []byte, salt uint32) {
	binary.LittleEndian.PutUint32(b[4:], binary.LittleEndian.Uint32(b[4:])^salt)
}
