package fakeposthog

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// Wire encodings a request can arrive in, as Batches counts them.
const (
	EncodingJSON       = "json"
	EncodingGzip       = "gzip"
	EncodingBase64     = "base64"
	EncodingForm       = "form"
	EncodingFormBase64 = "form-base64"
	EncodingQuery      = "query"
)

// maxDecoded bounds a payload after decompression: PostHog allows five times
// its 20 MB wire cap.
const maxDecoded = 100 << 20

// decoded is a payload unwrapped to JSON text, with how it came.
type decoded struct {
	json     []byte
	encoding string
}

// decodeError is a refusal of the payload itself: 400 with text, as
// capture-rs answers.
type decodeError struct{ msg string }

func (e *decodeError) Error() string { return e.msg }

func refuseDecode(format string, args ...any) error {
	return &decodeError{msg: fmt.Sprintf(format, args...)}
}

// decodePayload unwraps a capture or flags request as capture-rs does for
// what SDKs send: ?data= or body, whole-body base64, form, compression, a
// second base64 layer, then UTF-8 (docs/contracts/posthog-capture.md §2).
func decodePayload(r *http.Request, body []byte) (decoded, error) {
	q := r.URL.Query()
	raw, fromQuery := body, false
	if d := q.Get("data"); d != "" {
		raw, fromQuery = []byte(d), true
	}
	if len(raw) == 0 {
		return decoded{}, refuseDecode("request missing data payload")
	}
	enc := EncodingJSON
	if fromQuery {
		enc = EncodingQuery
	}
	hint := compressionHint(q.Get("compression"))
	raw, enc, hint, err := unwrapForm(r, raw, enc, hint)
	if err != nil {
		return decoded{}, err
	}
	if hint == "" {
		hint = compressionHint(r.Header.Get("Content-Encoding"))
	}
	out, enc, err := decompress(raw, enc, hint)
	if err != nil {
		return decoded{}, err
	}
	if out, err = unwrapInner(out); err != nil {
		return decoded{}, err
	}
	if !utf8.Valid(out) {
		return decoded{}, refuseDecode("failed to decode request: invalid UTF-8")
	}
	return decoded{json: out, encoding: enc}, nil
}

// unwrapForm reads a urlencoded form's data and compression fields when the
// content type says form; a body that merely looks like base64 is decoded
// whole, as capture-rs probes it.
func unwrapForm(r *http.Request, raw []byte, enc, hint string) ([]byte, string, string, error) {
	media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isGzip := hasGzipMagic(raw)
	if media != "application/x-www-form-urlencoded" || isGzip {
		if !isGzip && !looksLikeForm(raw) && looksLikeBase64(raw) {
			if b, ok := decodeBase64(raw); ok && enc != EncodingQuery {
				return b, EncodingBase64, hint, nil
			} else if ok {
				return b, enc, hint, nil
			}
		}
		return raw, enc, hint, nil
	}
	if !looksLikeForm(raw) {
		return nil, "", "", refuseDecode("failed to decode request: form body without a data field")
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, "", "", refuseDecode("failed to decode request: form: %v", err)
	}
	data := form.Get("data")
	if data == "" {
		return nil, "", "", refuseDecode("request missing data payload")
	}
	if hint == "" {
		hint = compressionHint(form.Get("compression"))
	}
	if spaced := strings.ReplaceAll(data, " ", "+"); looksLikeBase64([]byte(spaced)) {
		return []byte(spaced), EncodingFormBase64, hint, nil
	}
	return []byte(data), EncodingForm, hint, nil
}

// compressionHint names a known compression, "" for anything else
// (docs/contracts/posthog-capture.md §1.3).
func compressionHint(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "gzip", "gzip-js":
		return "gzip"
	case "lz64", "lz-string":
		return "lz64"
	case "base64", "b64":
		return "base64"
	}
	return ""
}

// decompress gunzips by magic bytes whatever the hint says, decodes a base64
// hint, and refuses lz64, which no current SDK sends.
func decompress(raw []byte, enc, hint string) ([]byte, string, error) {
	switch {
	case hasGzipMagic(raw):
		out, err := gunzip(raw)
		if err != nil {
			return nil, "", refuseDecode("failed to decode request: invalid GZIP data: %v", err)
		}
		return out, EncodingGzip, nil
	case hint == "gzip":
		return nil, "", refuseDecode("failed to decode request: invalid GZIP data: no gzip header")
	case hint == "lz64":
		return nil, "", refuseDecode("failed to decode request: lz64 is not sent by current SDKs and the fake refuses it")
	case hint == "base64":
		out, ok := decodeBase64(raw)
		if !ok {
			return nil, "", refuseDecode("failed to decode request: invalid base64")
		}
		if enc == EncodingJSON {
			enc = EncodingBase64
		}
		return out, enc, nil
	}
	return raw, enc, nil
}

func hasGzipMagic(b []byte) bool {
	return len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 0x08
}

var (
	gzipReaders    sync.Pool
	inflateBuffers sync.Pool
)

// gunzip inflates b, refusing more than maxDecoded bytes (a gzip bomb).
func gunzip(b []byte) ([]byte, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	if zr == nil {
		zr = new(gzip.Reader)
	}
	defer gzipReaders.Put(zr)
	if err := zr.Reset(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("gzip header: %w", err)
	}
	out, _ := inflateBuffers.Get().(*bytes.Buffer)
	if out == nil {
		out = new(bytes.Buffer)
	}
	defer inflateBuffers.Put(out)
	out.Reset()
	n, err := io.Copy(out, io.LimitReader(zr, maxDecoded+1))
	if err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	if n > maxDecoded {
		return nil, fmt.Errorf("inflated past %d bytes", maxDecoded)
	}
	// One exact copy: the pooled buffer's growth is paid once per size.
	return bytes.Clone(out.Bytes()), nil
}

// looksLikeForm is capture-rs's probe: a known field at the start or after
// an & within the first 128 bytes.
func looksLikeForm(b []byte) bool {
	head := string(b[:min(len(b), 128)])
	for _, field := range []string{"data=", "_=", "ip=", "compression="} {
		if strings.HasPrefix(head, field) || strings.Contains(head, "&"+field) {
			return true
		}
	}
	return false
}

// looksLikeBase64 is capture-rs's strict probe: the first 128 bytes in the
// standard alphabet and a length that is a multiple of 4.
func looksLikeBase64(b []byte) bool {
	if len(b) == 0 || len(b)%4 != 0 {
		return false
	}
	for _, c := range b[:min(len(b), 128)] {
		if !isBase64Byte(c) {
			return false
		}
	}
	return true
}

func isBase64Byte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

// decodeBase64 decodes standard padded base64, false when it is not.
func decodeBase64(b []byte) ([]byte, bool) {
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(out, b)
	if err != nil {
		return nil, false
	}
	return out[:n], true
}

// unwrapInner decodes a result that is still base64 once more, and gunzips
// it if that yields gzip (docs/contracts/posthog-capture.md §2.4).
func unwrapInner(out []byte) ([]byte, error) {
	if !looksLikeBase64(out) {
		return out, nil
	}
	b, ok := decodeBase64(out)
	if !ok {
		return out, nil
	}
	if !hasGzipMagic(b) {
		return b, nil
	}
	inflated, err := gunzip(b)
	if err != nil {
		return nil, refuseDecode("failed to decode request: invalid GZIP data: %v", err)
	}
	return inflated, nil
}
