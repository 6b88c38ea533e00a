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
	// errOutputLimit is returned by every decompressor when its output passes
	// the limit (the decompression-bomb guard).
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

// lzDict is the decompressor's dictionary as a trie: entry i is entry
// prefix[i] followed by the UTF-16 unit last[i] (prefix -1: a single unit).
type lzDict struct {
	prefix []int32
	last   []uint16
	first  []uint16
	length []int32
}

func (d *lzDict) size() int { return len(d.prefix) }

func (d *lzDict) addLiteral(u uint16) int {
	d.prefix = append(d.prefix, -1)
	d.last = append(d.last, u)
	d.first = append(d.first, u)
	d.length = append(d.length, 1)
	return len(d.prefix) - 1
}

func (d *lzDict) addExtension(prefix int, u uint16) int {
	d.prefix = append(d.prefix, int32(prefix))
	d.last = append(d.last, u)
	d.first = append(d.first, d.first[prefix])
	d.length = append(d.length, d.length[prefix]+1)
	return len(d.prefix) - 1
}

// appendEntry appends the units of entry code to out.
func (d *lzDict) appendEntry(out []uint16, code int) []uint16 {
	n := int(d.length[code])
	start := len(out)
	out = append(out, make([]uint16, n)...)
	for i, c := start+n-1, int32(code); c >= 0; i, c = i-1, d.prefix[c] {
		out[i] = d.last[c]
	}
	return out
}

// DecompressLZStringBase64 is LZString.decompressFromBase64: it decodes in
// (LZString's base64 alphabet) to UTF-16 and returns it as UTF-8, with lone
// surrogates replaced by U+FFFD. maxOut > 0 bounds the output in bytes; past it
// the result is an error wrapping the output-limit error. Malformed input is an
// error (upstream returns null or "" instead), never a panic.
func DecompressLZStringBase64(in []byte, maxOut int) ([]byte, error) {
	if len(in) == 0 {
		return nil, errLZEmpty
	}
	if maxOut <= 0 {
		maxOut = int(^uint(0) >> 1)
	}
	r := lzBitReader{in: in, pos: 32}
	r.load()

	// Codes 0, 1 and 2 are reserved: literal of 8 bits, of 16 bits, end.
	d := lzDict{
		prefix: make([]int32, 3, 64),
		last:   make([]uint16, 3, 64),
		first:  make([]uint16, 3, 64),
		length: make([]int32, 3, 64),
	}
	units := make([]uint16, 0, 2*len(in))

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
	w := d.addLiteral(uint16(c))
	units = append(units, uint16(c))
	enlargeIn, numBits := 4, 3

	for {
		if r.idx > len(in) {
			return nil, errLZTruncated
		}
		code := r.bits(numBits)
		switch code {
		case 0:
			code = d.addLiteral(uint16(r.bits(8)))
			enlargeIn--
		case 1:
			code = d.addLiteral(uint16(r.bits(16)))
			enlargeIn--
		case 2:
			if r.err != nil {
				return nil, r.err
			}
			return appendUTF16AsUTF8(make([]byte, 0, len(units)+len(units)/4), units, maxOut)
		}
		if r.err != nil {
			return nil, r.err
		}
		if enlargeIn == 0 {
			enlargeIn = 1 << numBits
			numBits++
		}
		var entry int
		switch {
		case code < d.size():
			entry = code
			d.addExtension(w, d.first[entry])
		case code == d.size():
			// The cScSc case: the entry is w + w[0], which is also the
			// entry being added.
			entry = d.addExtension(w, d.first[w])
		default:
			return nil, errLZBadCode
		}
		if len(units)+int(d.length[entry]) > maxOut {
			// Every UTF-16 unit becomes at least one UTF-8 byte.
			return nil, errOutputLimit
		}
		units = d.appendEntry(units, entry)
		enlargeIn--
		w = entry
		if enlargeIn == 0 {
			enlargeIn = 1 << numBits
			numBits++
		}
		if numBits > 31 {
			return nil, errLZBadCode
		}
	}
}

// appendUTF16AsUTF8 appends units as UTF-8, lone surrogates as U+FFFD.
func appendUTF16AsUTF8(dst []byte, units []uint16, maxOut int) ([]byte, error) {
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
		if len(dst) > maxOut {
			return nil, errOutputLimit
		}
	}
	return dst, nil
}
