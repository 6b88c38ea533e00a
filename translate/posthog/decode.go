package posthog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// RequestInput is what DecodeRequest needs from an HTTP request.
type RequestInput struct {
	// Path is the request path without the query. The payload decoding does
	// not depend on it: the second base64 unwrap that capture-rs runs only on
	// the legacy paths (/e, /capture, /engage, /track) runs on every path here
	// (docs/contracts/posthog-capture.md §2).
	Path            string
	Query           []byte // raw query string, without '?'
	ContentType     string
	ContentEncoding string
	Body            []byte
}

type compression uint8

const (
	compressionNone compression = iota
	compressionGzip
	compressionLZ64
	compressionBase64
)

// parseCompression maps a compression hint (query, form or Content-Encoding)
// to a decoder; unknown names are ignored, as in capture-rs.
func parseCompression(s string) compression {
	s = strings.TrimSpace(s)
	switch {
	case strings.EqualFold(s, "gzip"), strings.EqualFold(s, "gzip-js"):
		return compressionGzip
	case strings.EqualFold(s, "lz64"), strings.EqualFold(s, "lz-string"):
		return compressionLZ64
	case strings.EqualFold(s, "base64"), strings.EqualFold(s, "b64"):
		return compressionBase64
	}
	return compressionNone
}

// DecodeRequest finds the payload of a capture request and unwraps it to JSON
// text, following capture-rs with the recommended leniency:
//
//  1. the non-empty ?data= value, else the body (both empty: ErrEmptyPayload);
//  2. a payload that is not a form but is base64 (standard or URL-safe, padded
//     or not) is base64-decoded, when the result is JSON or gzip;
//  3. a body is form-decoded (fields data and compression) when its media
//     type is application/x-www-form-urlencoded (any parameters), or when it
//     carries no or a text/plain content type and looks like a form; spaces in
//     a base64-looking data field are turned back into '+';
//  4. the compression hint is the first known one of the query compression,
//     the form compression and Content-Encoding;
//  5. gzip is detected by its magic bytes 1f 8b 08 whatever the hint says (a
//     gzip hint on other bytes falls through); lz64 when the hint says so;
//  6. a result that still looks like base64 is decoded once more;
//  7. the text must be valid UTF-8; lone UTF-16 surrogate escapes (\ud83c
//     without its pair) are replaced with \ufffd so strict JSON readers accept it.
//
// Every stage's output is bounded by limits (MaxDecoded, MaxDecodeRatio of
// the query and body bytes) while it is produced, and charged to
// limits.Budget. The result never aliases in.Body or in.Query: the caller
// may reuse them. Errors are *Error with kind ErrEmptyPayload,
// ErrInvalidPayload, ErrTooLarge, ErrDecodeRatio or ErrOverloaded.
func DecodeRequest(in RequestInput, limits Limits) ([]byte, error) {
	d := decoder{m: newOutputMeter(limits.withDefaults(), len(in.Query)+len(in.Body))}

	queryData, queryHint, err := d.parseQuery(in.Query)
	if err != nil {
		return nil, err
	}
	ceHint := parseCompression(in.ContentEncoding)
	hint := firstHint(queryHint, ceHint)

	payload, owned := queryData, true
	fromBody := len(payload) == 0
	if fromBody {
		payload, owned = in.Body, false
	}
	if len(payload) == 0 {
		return nil, newError(ErrEmptyPayload, "request missing data payload")
	}

	// Gzip is decided by its magic bytes (step 5), so a gzip body is never
	// a form: its binary head holds "&_=" or "&ip=" by chance about once in
	// 50,000 bodies, and posthog-js sends gzip as text/plain.
	formish := !isGzip(payload) && looksLikeForm(payload)
	if !formish && hint != compressionLZ64 {
		dec, ok, err := d.unwrapBase64(payload)
		if err != nil {
			return nil, err
		}
		if ok {
			payload, owned = dec, true
		}
	}

	if fromBody {
		mediaType := mediaTypeOf(in.ContentType)
		isForm := mediaType == "application/x-www-form-urlencoded"
		if isForm && !formish {
			return nil, newError(ErrInvalidPayload, "form content type on a body that is not a form")
		}
		if formish && (isForm || mediaType == "" || mediaType == "text/plain") {
			data, formHint, err := d.parseForm(payload)
			if err != nil {
				return nil, err
			}
			payload, owned = data, true
			hint = firstHint(queryHint, formHint, ceHint)
		}
	}

	payload, owned, err = d.decompress(payload, owned, hint)
	if err != nil {
		return nil, err
	}
	return d.finish(payload, owned)
}

// decoder runs the stages of one DecodeRequest under one outputMeter.
type decoder struct{ m outputMeter }

// finish runs step 7 on the decoded payload and copies it when it is
// still a view of the request.
func (d *decoder) finish(payload []byte, owned bool) ([]byte, error) {
	if err := d.m.fits(len(payload)); err != nil {
		return nil, stageError("decode payload", err)
	}
	if !utf8.Valid(payload) {
		return nil, newError(ErrInvalidPayload, "decode payload: not valid utf-8")
	}
	if !owned {
		if err := d.m.grow(len(payload)); err != nil {
			return nil, stageError("copy payload", err)
		}
		payload = append([]byte(nil), payload...)
	}
	repairLoneSurrogates(payload)
	return payload, nil
}

// decompress runs steps 5 and 6 of DecodeRequest.
func (d *decoder) decompress(payload []byte, owned bool, hint compression) ([]byte, bool, error) {
	switch {
	case isGzip(payload):
		out, err := d.gunzip(payload)
		if err != nil {
			return nil, false, err
		}
		return out, true, nil
	case hint == compressionLZ64 && !looksLikeJSON(payload):
		return d.unLZ(payload)
	}
	// The second unwrap (capture-rs runs it on the legacy paths only).
	dec, ok, err := d.unwrapBase64(payload)
	if err != nil || !ok {
		return payload, owned, err
	}
	if isGzip(dec) {
		out, err := d.gunzip(dec)
		if err != nil {
			return nil, false, err
		}
		return out, true, nil
	}
	return dec, true, nil
}

// unLZ decodes an lz64 payload; a wrong hint on a base64 payload takes the
// base64 reading.
func (d *decoder) unLZ(payload []byte) ([]byte, bool, error) {
	out, err := decompressLZ(payload, &d.m)
	if err == nil && looksLikeJSON(out) {
		return out, true, nil
	}
	var be *budgetError
	if errors.As(err, &be) {
		return nil, false, stageError("decode lz64 body", err)
	}
	dec, ok, berr := d.unwrapBase64(payload)
	if berr != nil {
		return nil, false, berr
	}
	if ok && isGzip(dec) {
		out, err := d.gunzip(dec)
		return out, err == nil, err
	}
	if ok {
		return dec, true, nil
	}
	if err != nil {
		return nil, false, stageError("decode lz64 body", err)
	}
	return out, true, nil
}

func firstHint(hints ...compression) compression {
	for _, h := range hints {
		if h != compressionNone {
			return h
		}
	}
	return compressionNone
}

// mediaTypeOf is the lower-cased media type of a Content-Type header, without
// parameters.
func mediaTypeOf(contentType string) string {
	if i := strings.IndexByte(contentType, ';'); i >= 0 {
		contentType = contentType[:i]
	}
	return strings.ToLower(strings.TrimSpace(contentType))
}

func isGzip(b []byte) bool {
	return len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 0x08
}

// looksLikeJSON reports whether the first non-blank byte opens an object or
// an array.
func looksLikeJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// looksLikeForm is capture-rs's form probe: within the first 128 bytes the
// text starts with, or has after a '&', one of data=, _=, ip=, compression=.
func looksLikeForm(b []byte) bool {
	if len(b) > 128 {
		b = b[:128]
	}
	for start := 0; start <= len(b); {
		rest := b[start:]
		if bytes.HasPrefix(rest, []byte("data=")) || bytes.HasPrefix(rest, []byte("_=")) ||
			bytes.HasPrefix(rest, []byte("ip=")) || bytes.HasPrefix(rest, []byte("compression=")) {
			return true
		}
		i := bytes.IndexByte(rest, '&')
		if i < 0 {
			return false
		}
		start += i + 1
	}
	return false
}

// base64Class marks the bytes a base64 payload may hold: both alphabets,
// padding, and line breaks.
var base64Class = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_\r\n") {
		t[c] = true
	}
	return t
}()

// looksLikeBase64 checks the first 128 bytes, as capture-rs's probe does, but
// accepts URL-safe and unpadded base64 and any length.
func looksLikeBase64(b []byte, allowSpace bool) bool {
	if len(b) == 0 {
		return false
	}
	if len(b) > 128 {
		b = b[:128]
	}
	for _, c := range b {
		if !base64Class[c] && !(allowSpace && c == ' ') {
			return false
		}
	}
	return true
}

// unwrapBase64 decodes a base64-looking payload and keeps the result only
// when it is JSON or gzip, so that text which merely looks like base64 is
// never replaced by noise. The head is decoded first, so such text costs no
// allocation of its decoded size.
func (d *decoder) unwrapBase64(b []byte) ([]byte, bool, error) {
	if !looksLikeBase64(b, false) {
		return nil, false, nil
	}
	b, enc := base64Text(b)
	if !mayDecodeToPayload(b, enc) {
		return nil, false, nil
	}
	n := enc.DecodedLen(len(b))
	if err := d.m.fits(n); err != nil {
		return nil, false, stageError("decode base64 payload", err)
	}
	if err := d.m.grow(n); err != nil {
		return nil, false, stageError("decode base64 payload", err)
	}
	dst := make([]byte, n)
	n, err := enc.Decode(dst, b)
	if err != nil || !(looksLikeJSON(dst[:n]) || isGzip(dst[:n])) {
		return nil, false, nil
	}
	return dst[:n], true, nil
}

// base64Text trims b to its base64 digits and picks the alphabet: standard
// or URL-safe, unpadded (line breaks are ignored by the decoder).
func base64Text(b []byte) ([]byte, *base64.Encoding) {
	b = bytes.TrimSpace(b)
	b = bytes.TrimRight(b, "=\r\n")
	if bytes.ContainsAny(b, "-_") {
		return b, base64.RawURLEncoding
	}
	return b, base64.RawStdEncoding
}

// mayDecodeToPayload decodes the head of base64 text b and reports whether
// the whole could be JSON or gzip: false only when the head shows it is not.
func mayDecodeToPayload(b []byte, enc *base64.Encoding) bool {
	const head = 128 // base64 digits: 96 bytes
	if len(b) <= head {
		return true
	}
	var buf [head / 4 * 3]byte
	n, err := enc.Decode(buf[:], b[:head])
	if err != nil {
		return true // a line break in the head: let the full decode judge
	}
	dec := buf[:n]
	if isGzip(dec) || looksLikeJSON(dec) {
		return true
	}
	return len(bytes.TrimLeft(dec, " \t\r\n")) == 0
}

// gunzipState is a pooled gzip reader with its source.
type gunzipState struct {
	src bytes.Reader
	zr  *gzip.Reader
}

var gunzipStates = sync.Pool{New: func() any { return new(gunzipState) }}

// gunzip decompresses b (every gzip member) and stops as soon as the output
// passes the meter's limit.
func (d *decoder) gunzip(b []byte) ([]byte, error) {
	st := gunzipStates.Get().(*gunzipState)
	defer func() {
		st.src.Reset(nil)
		gunzipStates.Put(st)
	}()
	st.src.Reset(b)
	var err error
	if st.zr == nil {
		st.zr, err = gzip.NewReader(&st.src)
	} else {
		err = st.zr.Reset(&st.src)
	}
	if err != nil {
		st.zr = nil
		return nil, wrapError(ErrInvalidPayload, "decode gzip body", err)
	}
	out, err := d.readAll(st.zr, gunzipSizeHint(b, d.m.limit))
	if err != nil {
		return nil, stageError("decode gzip body", err)
	}
	return out, nil
}

// readAll reads r to its end into a buffer of size bytes at first, grown
// (and charged) as needed up to one byte past the meter's limit.
func (d *decoder) readAll(r io.Reader, size int) ([]byte, error) {
	if err := d.m.grow(size); err != nil {
		return nil, err
	}
	out := make([]byte, 0, size)
	for {
		if len(out) == cap(out) {
			grown := min(max(2*cap(out), 4096), d.m.limit+1)
			if err := d.m.grow(grown - cap(out)); err != nil {
				return nil, err
			}
			out = append(make([]byte, 0, grown), out...)
		}
		n, err := r.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err := d.m.fits(len(out)); err != nil {
			return nil, err
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// gunzipSizeHint sizes the output buffer from the gzip trailer's ISIZE (the
// last member's length mod 2^32), trusted only up to 64 times the compressed
// size and the limit, so a forged trailer cannot make us allocate much.
func gunzipSizeHint(b []byte, limit int) int {
	size := 4 * len(b)
	if n := len(b); n >= 18 {
		isize := int(uint32(b[n-4]) | uint32(b[n-3])<<8 | uint32(b[n-2])<<16 | uint32(b[n-1])<<24)
		size = min(isize, 64*n) + 512 // room for the read that returns io.EOF
	}
	return max(min(size, limit+1), 512)
}

// parseQuery returns the data and compression fields of a raw query string.
func (d *decoder) parseQuery(query []byte) (data []byte, hint compression, err error) {
	for len(query) > 0 {
		var pair []byte
		pair, query, _ = bytes.Cut(query, []byte("&"))
		key, value, _ := bytes.Cut(pair, []byte("="))
		switch {
		case fieldIs(key, "data") && len(data) == 0:
			if data, err = d.unescape(value); err != nil {
				return nil, 0, stageError("decode query data", err)
			}
			restoreBase64Plus(data)
		case fieldIs(key, "compression") && hint == compressionNone:
			s, err := formUnescape(value)
			if err != nil {
				return nil, 0, wrapError(ErrInvalidPayload, "decode query compression", err)
			}
			hint = parseCompression(string(s))
		}
	}
	return data, hint, nil
}

// parseForm reads the data and compression fields of a urlencoded body.
func (d *decoder) parseForm(body []byte) (data []byte, hint compression, err error) {
	found := false
	for len(body) > 0 {
		var pair []byte
		pair, body, _ = bytes.Cut(body, []byte("&"))
		key, value, _ := bytes.Cut(pair, []byte("="))
		switch {
		case fieldIs(key, "data") && !found:
			if data, err = d.unescape(value); err != nil {
				return nil, 0, stageError("decode form data", err)
			}
			found = true
		case fieldIs(key, "compression") && hint == compressionNone:
			s, err := formUnescape(value)
			if err != nil {
				return nil, 0, wrapError(ErrInvalidPayload, "decode form compression", err)
			}
			hint = parseCompression(string(s))
		}
	}
	if len(data) == 0 {
		return nil, 0, newError(ErrEmptyPayload, "request missing data payload: form has no data field")
	}
	restoreBase64Plus(data)
	return data, hint, nil
}

// unescape is formUnescape of a data field, charged to the meter.
func (d *decoder) unescape(value []byte) ([]byte, error) {
	if err := d.m.fits(len(value)); err != nil {
		return nil, err
	}
	if err := d.m.grow(len(value)); err != nil {
		return nil, err
	}
	return formUnescape(value)
}

// restoreBase64Plus turns spaces back into '+' when b is base64 (or lz64)
// whose '+' signs a form decoder read as spaces.
func restoreBase64Plus(b []byte) {
	if bytes.IndexByte(b, ' ') < 0 || !looksLikeBase64(b, true) {
		return
	}
	for i, c := range b {
		if c == ' ' {
			b[i] = '+'
		}
	}
}

func fieldIs(key []byte, name string) bool {
	if string(key) == name {
		return true
	}
	if bytes.IndexByte(key, '%') < 0 {
		return false
	}
	k, err := formUnescape(key)
	return err == nil && string(k) == name
}

var errBadEscape = errors.New("invalid percent escape")

// formUnescape decodes application/x-www-form-urlencoded text into a new
// slice: '+' is a space, %XX a byte.
func formUnescape(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			out = append(out, ' ')
		case '%':
			if i+2 >= len(s) {
				return nil, errBadEscape
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return nil, errBadEscape
			}
			out = append(out, hi<<4|lo)
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
