package abuse

import "unicode/utf16"

// LZ64 is lz-string's compressToBase64, as posthog-js compresses with
// compression=lz64. The dictionary is a trie of codes (a map from a
// prefix's code and the next unit), so bombs of many megabytes compress in
// linear time.
func LZ64(s string) string {
	z := lzWriter{numBits: 2, enlargeIn: 2, dictSize: 3, w: -1,
		single: map[uint16]int{}, fresh: map[uint16]bool{}, trie: map[uint64]int{}}
	for _, r := range s {
		if r1, r2 := utf16.EncodeRune(r); r1 != '\uFFFD' {
			z.add(uint16(r1))
			z.add(uint16(r2))
		} else {
			z.add(uint16(r))
		}
	}
	if z.w >= 0 {
		z.emit()
	}
	z.bits(2, z.numBits)
	return z.finish()
}

// add extends the current prefix by the UTF-16 unit c, or writes the prefix
// and starts a new one at c.
func (z *lzWriter) add(c uint16) {
	code, ok := z.single[c]
	if !ok {
		code = z.dictSize
		z.single[c], z.fresh[c] = code, true
		z.dictSize++
	}
	if z.w >= 0 {
		key := uint64(z.w)<<16 | uint64(c)
		if next, ok := z.trie[key]; ok {
			z.w, z.wSingle = next, false
			return
		}
		z.emit()
		z.trie[key] = z.dictSize
		z.dictSize++
	}
	z.w, z.wUnit, z.wSingle = code, c, true
}

// lzWriter is lz-string's compressor state with 6 bits per output character.
type lzWriter struct {
	numBits, enlargeIn, dictSize int
	single                       map[uint16]int  // code of each unit seen
	fresh                        map[uint16]bool // units not yet written as literals
	trie                         map[uint64]int  // prefix code<<16 | unit → code
	out                          []byte
	val, pos                     int
	// The current prefix: its code (-1: none yet), and its unit when it
	// is a single one.
	w       int
	wUnit   uint16
	wSingle bool
}

const lzAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

func (z *lzWriter) bits(value, n int) {
	for i := 0; i < n; i++ {
		z.val = z.val<<1 | value&1
		value >>= 1
		if z.pos == 5 {
			z.pos = 0
			z.out = append(z.out, lzAlphabet[z.val])
			z.val = 0
		} else {
			z.pos++
		}
	}
}

func (z *lzWriter) grow() {
	z.enlargeIn--
	if z.enlargeIn == 0 {
		z.enlargeIn = 1 << z.numBits
		z.numBits++
	}
}

// emit writes the current prefix: a literal the first time a unit is
// written on its own, its code otherwise.
func (z *lzWriter) emit() {
	if unit := z.wUnit; z.wSingle && z.fresh[unit] {
		if unit < 256 {
			z.bits(0, z.numBits)
			z.bits(int(unit), 8)
		} else {
			z.bits(1, z.numBits)
			z.bits(int(unit), 16)
		}
		z.grow()
		delete(z.fresh, unit)
	} else {
		z.bits(z.w, z.numBits)
	}
	z.grow()
}

func (z *lzWriter) finish() string {
	for {
		z.val <<= 1
		if z.pos == 5 {
			z.out = append(z.out, lzAlphabet[z.val])
			break
		}
		z.pos++
	}
	for len(z.out)%4 != 0 {
		z.out = append(z.out, '=')
	}
	return string(z.out)
}
