package posthog

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// LZString ("lz64") is the compression of the lz-string JavaScript package
// (https://github.com/pieroxy/lz-string), used by Django-era PostHog clients as
// `compression=lz64` / `Content-Encoding: lz64`. No Go module implements it, so
// this is a port of its _decompress over the base64 alphabet, checked against
// vectors produced by the npm package (lzstring_vectors_test.go).

var (
	errLZEmpty       = errors.New("empty input")
	errLZInvalidChar = errors.New("invalid character in input")
	errLZTruncated   = errors.New("input ends before the end-of-stream marker")
	errLZBadCode     = errors.New("invalid dictionary reference")
	// errOutputLimit is what every stage's limit error unwraps to (the
	// decompression-bomb guard; see outputMeter).
	errOutputLimit = errors.New("decompressed size exceeds the limit")
)

// lzBase64Values maps a byte of LZString's base64 alphabet to its 6-bit value;
// -1 marks bytes outside it. '=' is 64: like upstream, it reads as zero bits.
var lzBase64Values = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

// lzBitReader reads the bit stream of compressToBase64: 6 bits per input
// byte, most significant first; a code's bits arrive least significant first.
// Past the end of the input it reads zeros, as upstream does.
type lzBitReader struct {
	in  []byte
	val int
	pos int // mask of the next bit of val; upstream's resetValue is 32
	idx int // index of the next input byte
	err error
}

func (r *lzBitReader) load() {
	if r.idx >= len(r.in) {
		r.val = 0
		r.idx++
		return
	}
	v := lzBase64Values[r.in[r.idx]]
	r.idx++
	if v < 0 {
		r.err = errLZInvalidChar
		v = 0
	}
	r.val = int(v)
}

func (r *lzBitReader) bits(n int) int {
	res := 0
	for i := 0; i < n; i++ {
		if r.val&r.pos != 0 {
			res |= 1 << i
		}
		r.pos >>= 1
		if r.pos == 0 {
			r.pos = 32
			r.load()
		}
	}
	return res
}

// lzEntry is a dictionary entry of the decompressor: every entry is text
// already in the output (a previous entry followed by the first unit of the
// next), so it is kept as its place there instead of as a string.
type lzEntry struct{ off, n int32 }

// lzOutput is the decompressor's UTF-16 output, grown and charged through
// the meter; its length is bounded by the meter's limit, as every unit
// becomes at least one UTF-8 byte.
type lzOutput struct{ units []uint16 }

// reserve makes room for n more units.
func (o *lzOutput) reserve(n int, m *outputMeter) error {
	need := len(o.units) + n
	if err := m.fits(need); err != nil {
		return err
	}
	if need <= cap(o.units) {
		return nil
	}
	grown := min(max(2*cap(o.units), need, 1024), m.limit)
	if err := m.grow(2 * (grown - cap(o.units))); err != nil {
		return err
	}
	o.units = append(make([]uint16, 0, grown), o.units...)
	return nil
}

// appendCopy appends the text of e, then, when extra is 1, its first unit
// again (lz-string's cScSc case), and returns where it was put.
func (o *lzOutput) appendCopy(e lzEntry, extra int32, m *outputMeter) (lzEntry, error) {
	if err := o.reserve(int(e.n+extra), m); err != nil {
		return lzEntry{}, err
	}
	// Reslicing within the capacity stores no pointer: no write barrier.
	at := int32(len(o.units))
	o.units = o.units[:at+e.n+extra]
	copy(o.units[at:], o.units[e.off:e.off+e.n])
	if extra == 1 {
		o.units[at+e.n] = o.units[e.off]
	}
	return lzEntry{off: at, n: e.n + extra}, nil
}

// appendLiteral appends one unit and returns where it was put.
func (o *lzOutput) appendLiteral(u uint16, m *outputMeter) (lzEntry, error) {
	if err := o.reserve(1, m); err != nil {
		return lzEntry{}, err
	}
	at := len(o.units)
	o.units = o.units[:at+1]
	o.units[at] = u
	return lzEntry{off: int32(at), n: 1}, nil
}

// lzDict is the dictionary; codes 0, 1 and 2 are reserved (literal of 8
// bits, of 16 bits, end) and hold no entry.
type lzDict struct{ entries []lzEntry }

func (d *lzDict) size() int { return len(d.entries) }

func (d *lzDict) add(e lzEntry, m *outputMeter) error {
	if len(d.entries) == cap(d.entries) {
		grown := max(2*cap(d.entries), 64)
		if err := m.grow(8 * (grown - cap(d.entries))); err != nil {
			return err
		}
		d.entries = append(make([]lzEntry, 0, grown), d.entries...)
	}
	n := len(d.entries)
	d.entries = d.entries[:n+1]
	d.entries[n] = e
	return nil
}

// DecompressLZStringBase64 is LZString.decompressFromBase64: it decodes in
// (LZString's base64 alphabet) to UTF-16 and returns it as UTF-8, with lone
// surrogates replaced by U+FFFD. maxOut > 0 bounds the output in bytes; past it
// the result is an error wrapping the output-limit error. Malformed input is an
// error (upstream returns null or "" instead), never a panic.
func DecompressLZStringBase64(in []byte, maxOut int) ([]byte, error) {
	return decompressLZ(in, unboundedMeter(maxOut))
}

// decompressLZ is DecompressLZStringBase64 under a meter: memory is the
// output (two bytes per unit, then its UTF-8) and eight bytes per
// dictionary entry, and the output stops at the meter's limit.
func decompressLZ(in []byte, m *outputMeter) ([]byte, error) {
	if len(in) == 0 {
		return nil, errLZEmpty
	}
	r := lzBitReader{in: in, pos: 32}
	r.load()
	d := lzDict{entries: make([]lzEntry, 3, 64)}
	var out lzOutput
	if err := out.reserve(min(4*len(in), m.limit), m); err != nil {
		return nil, err
	}

	var c int
	switch r.bits(2) {
	case 0:
		c = r.bits(8)
	case 1:
		c = r.bits(16)
	case 2:
		return []byte{}, r.err
	default:
		return nil, errLZBadCode
	}
	if r.err != nil {
		return nil, r.err
	}
	w, err := out.appendLiteral(uint16(c), m)
	if err != nil {
		return nil, err
	}
	if err := d.add(w, m); err != nil {
		return nil, err
	}
	enlargeIn, numBits := 4, 3

	for {
		if r.idx > len(in) {
			return nil, errLZTruncated
		}
		code := r.bits(numBits)
		var entry lzEntry
		var err error
		switch {
		case code == 0 || code == 1:
			// A literal is its own entry, then extends w like any other.
			width := 8 << code
			entry, err = out.appendLiteral(uint16(r.bits(width)), m)
			if err == nil {
				err = d.add(entry, m)
			}
			if enlargeIn--; enlargeIn == 0 {
				enlargeIn = 1 << numBits
				numBits++
			}
		case code == 2:
			if r.err != nil {
				return nil, r.err
			}
			return utf16ToUTF8(out.units, m)
		case code < d.size():
			entry, err = out.appendCopy(d.entries[code], 0, m)
		case code == d.size():
			// The cScSc case: the entry is w + w[0], which is also the
			// entry being added.
			entry, err = out.appendCopy(w, 1, m)
		default:
			return nil, errLZBadCode
		}
		if err == nil {
			err = r.err
		}
		if err != nil {
			return nil, err
		}
		// w and the entry after it are contiguous in the output.
		if err := d.add(lzEntry{off: w.off, n: w.n + 1}, m); err != nil {
			return nil, err
		}
		w = entry
		if enlargeIn--; enlargeIn == 0 {
			enlargeIn = 1 << numBits
			numBits++
		}
		if numBits > 31 {
			return nil, errLZBadCode
		}
	}
}

// utf16ToUTF8 returns units as UTF-8, lone surrogates as U+FFFD, in one
// allocation of the exact size, checked against the meter first.
func utf16ToUTF8(units []uint16, m *outputMeter) ([]byte, error) {
	n := 0
	for i := 0; i < len(units); i++ {
		switch u := units[i]; {
		case u < utf8.RuneSelf:
			n++
		case u < 0x800:
			n += 2
		case u >= 0xd800 && u < 0xdc00 && i+1 < len(units) && units[i+1] >= 0xdc00 && units[i+1] < 0xe000:
			n += 4
			i++
		default:
			n += 3 // other units of the BMP, and U+FFFD for a lone surrogate
		}
	}
	if err := m.fits(n); err != nil {
		return nil, err
	}
	if err := m.grow(n); err != nil {
		return nil, err
	}
	dst := make([]byte, 0, n)
	for i := 0; i < len(units); i++ {
		u := units[i]
		switch {
		case u < utf8.RuneSelf:
			dst = append(dst, byte(u))
		case u < 0xd800 || u >= 0xe000:
			dst = utf8.AppendRune(dst, rune(u))
		case u < 0xdc00 && i+1 < len(units) && units[i+1] >= 0xdc00 && units[i+1] < 0xe000:
			dst = utf8.AppendRune(dst, utf16.DecodeRune(rune(u), rune(units[i+1])))
			i++
		default:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		}
	}
	return dst, nil
}
