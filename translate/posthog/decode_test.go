package posthog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
)

const decodeEvent = `{"event":"my-event","properties":{"prop":"💻 Writing code","distinct_id":"d1","token":"tok"}}`

func TestDecodeRequest(t *testing.T) {
	f := func(in RequestInput, want string) {
		t.Helper()
		body := append([]byte(nil), in.Body...)
		got, err := DecodeRequest(in, Limits{})
		if err != nil {
			t.Fatalf("DecodeRequest(%s?%s, %q, %q): unexpected error: %v", in.Path, shorten(string(in.Query)), in.ContentType, in.ContentEncoding, err)
		}
		if string(got) != want {
			t.Fatalf("DecodeRequest(%s?%s): got %q, want %q", in.Path, shorten(string(in.Query)), shorten(string(got)), shorten(want))
		}
		if len(in.Body) > 0 && len(got) > 0 {
			in.Body[0] ^= 0xff // the result must not alias the body
			if string(got) != want {
				t.Fatalf("DecodeRequest result aliases the request body")
			}
			copy(in.Body, body)
		}
	}
	js := decodeEvent
	b64 := base64.StdEncoding.EncodeToString([]byte(js))
	gz := gzipBytes(t, []byte(js))
	lz := lzCompressToBase64(js)

	// plain JSON, any content type
	f(RequestInput{Path: "/batch/", ContentType: "application/json", Body: []byte(js)}, js)
	f(RequestInput{Path: "/e/", ContentType: "text/plain", Body: []byte(js)}, js)
	f(RequestInput{Path: "/e/", Body: []byte("\n  " + js + "\n")}, "\n  "+js+"\n")

	// GET ?data=
	f(RequestInput{Path: "/e/", Query: []byte("data=" + url.QueryEscape(js) + "&_=1")}, js)
	f(RequestInput{Path: "/e/", Query: []byte("ver=1&data=" + url.QueryEscape(b64))}, js)
	f(RequestInput{Path: "/e/", Query: []byte("data=" + b64)}, js) // '+' read as a space, restored
	f(RequestInput{Path: "/e/", Query: []byte("data=" + strings.TrimRight(b64, "="))}, js)
	f(RequestInput{Path: "/e/", Query: []byte("data=" + base64.RawURLEncoding.EncodeToString([]byte(js)))}, js)
	f(RequestInput{Path: "/e/", Query: []byte("compression=lz64&data=" + url.QueryEscape(lz))}, js)
	f(RequestInput{Path: "/e/", Query: []byte("data=" + url.QueryEscape(lz) + "&compression=LZ-String")}, js)
	// ?data= wins over the body
	f(RequestInput{Path: "/e/", Query: []byte("data=" + url.QueryEscape(js)), Body: []byte(`{"event":"other"}`)}, js)
	// an empty ?data= falls back to the body
	f(RequestInput{Path: "/e/", Query: []byte("data="), Body: []byte(js)}, js)

	// Django's unpadded GET vector (test_incorrect_padding)
	django := `{"event":"whatevefr","properties":{"token":"token123","distinct_id":"asdf"}}`
	f(RequestInput{Path: "/e/", Query: []byte("data=" + base64.RawStdEncoding.EncodeToString([]byte(django)))}, django)

	// whole-body base64
	f(RequestInput{Path: "/i/v0/e/", ContentType: "text/plain", Body: []byte(b64)}, js)
	f(RequestInput{Path: "/batch/", Body: []byte(strings.TrimRight(b64, "=") + "\n")}, js)
	f(RequestInput{Path: "/batch/", Query: []byte("compression=base64"), Body: []byte(b64)}, js)
	f(RequestInput{Path: "/batch/", ContentEncoding: "b64", Body: []byte(b64)}, js)

	// gzip: by magic bytes whatever the hint says
	f(RequestInput{Path: "/e/", ContentType: "text/plain", Body: gz}, js)
	f(RequestInput{Path: "/e/", Query: []byte("compression=gzip-js&ip=1&_=1694769302325"), ContentType: "text/plain", Body: gz}, js)
	f(RequestInput{Path: "/batch/", Query: []byte("compression=gzip"), ContentType: "application/json", ContentEncoding: "gzip", Body: gz}, js)
	f(RequestInput{Path: "/batch/", ContentType: "application/json; charset=utf-8", ContentEncoding: "gzip", Body: gz}, js)
	f(RequestInput{Path: "/batch/", Body: gz}, js) // IE11: no content type
	f(RequestInput{Path: "/batch/", Query: []byte("compression=lz64"), Body: gz}, js)
	f(RequestInput{Path: "/batch/", Query: []byte("compression=base64"), Body: gz}, js)
	f(RequestInput{Path: "/batch/", Body: append(append([]byte(nil), gz...), gzipBytes(t, []byte(" "))...)}, js+" ") // two members
	// gzip whose head holds what a form starts with (here in the header's
	// comment; in compressed bytes it happens by chance) is still gzip
	for _, comment := range []string{"&_=1", "x&data=y", "&ip=1&compression=lz64"} {
		body := gzipWithComment(t, []byte(js), comment)
		if !looksLikeForm(body) {
			t.Fatalf("gzip with comment %q does not look like a form: the case tests nothing", comment)
		}
		f(RequestInput{Path: "/batch/", ContentType: "text/plain", Body: body}, js)
		f(RequestInput{Path: "/e/", Body: body}, js)
	}
	// a gzip hint on bytes that are not gzip falls through
	f(RequestInput{Path: "/batch/", Query: []byte("compression=gzip"), ContentType: "application/json", Body: []byte(js)}, js)
	f(RequestInput{Path: "/batch/", ContentEncoding: "gzip", Body: []byte(b64)}, js)
	// base64 of gzip
	f(RequestInput{Path: "/e/", Body: []byte(base64.StdEncoding.EncodeToString(gz))}, js)

	// lz64
	f(RequestInput{Path: "/batch/", ContentEncoding: "lz64", Body: []byte(lz)}, js)
	f(RequestInput{Path: "/batch/", Query: []byte("compression=lz64"), ContentType: "text/plain", Body: []byte(lz)}, js)
	f(RequestInput{Path: "/batch/", ContentEncoding: "lz64", Body: []byte(js)}, js)  // wrong hint on JSON
	f(RequestInput{Path: "/batch/", ContentEncoding: "lz64", Body: []byte(b64)}, js) // wrong hint on base64

	// forms
	form := "application/x-www-form-urlencoded"
	f(RequestInput{Path: "/e/", ContentType: form, Body: []byte("data=" + url.QueryEscape(js) + "&ver=1.2.3")}, js)
	f(RequestInput{Path: "/e/", ContentType: form, Body: []byte("data=" + url.QueryEscape(b64) + "&ver=1.2.3")}, js)
	f(RequestInput{Path: "/i/v0/e/", ContentType: form, Body: []byte("data=" + url.QueryEscape(b64))}, js) // capture-rs: 400
	f(RequestInput{Path: "/e/", ContentType: form, Body: []byte("data=" + b64)}, js)                       // '+' decoded as a space
	f(RequestInput{Path: "/e/", ContentType: form + "; charset=UTF-8", Body: []byte("data=" + url.QueryEscape(js))}, js)
	f(RequestInput{Path: "/e/", ContentType: "Application/X-WWW-Form-Urlencoded", Body: []byte("data=" + url.QueryEscape(js))}, js)
	f(RequestInput{Path: "/e/", ContentType: form, Body: []byte("data=" + url.QueryEscape(lz) + "&compression=lz64&ver=1.2.3")}, js)
	f(RequestInput{Path: "/e/", ContentType: form, Body: []byte("compression=lz64&data=" + lz)}, js)
	f(RequestInput{Path: "/e/", Query: []byte("compression=lz64"), ContentType: form, Body: []byte("data=" + url.QueryEscape(lz))}, js)
	f(RequestInput{Path: "/e/", Query: []byte("compression=base64"), ContentType: form, Body: []byte("data=" + url.QueryEscape(b64))}, js)
	f(RequestInput{Path: "/e/", ContentType: form, Body: []byte("ip=1&_=2&d%61ta=" + url.QueryEscape(js))}, js)
	// posthog-js 1.78 dump line 15: gzip hint, form/base64 body
	f(RequestInput{Path: "/e/", Query: []byte("compression=gzip-js&ip=1"), ContentType: form, Body: []byte("data=" + url.QueryEscape(b64))}, js)
	// leniency: a form body sent as text/plain or without a content type
	f(RequestInput{Path: "/e/", ContentType: "text/plain", Body: []byte("data=" + url.QueryEscape(b64))}, js)
	f(RequestInput{Path: "/e/", Body: []byte("data=" + url.QueryEscape(js))}, js)

	// lone surrogate escapes are repaired; a valid pair is kept
	f(RequestInput{Path: "/e/", Body: []byte(`{"a":"\ud83c\ud83c x \ud83d\ude00 \\ud83c \ude00"}`)},
		`{"a":"\ufffd\ufffd x \ud83d\ude00 \\ud83c \ufffd"}`)
}

func TestDecodeRequestErrors(t *testing.T) {
	f := func(in RequestInput, limits Limits, kind error, msg string) {
		t.Helper()
		got, err := DecodeRequest(in, limits)
		if !errors.Is(err, kind) {
			t.Fatalf("DecodeRequest(%s?%s, %q): got %q, %v; want %v", in.Path, shorten(string(in.Query)), shorten(string(in.Body)), shorten(string(got)), err, kind)
		}
		if !strings.Contains(err.Error(), msg) {
			t.Fatalf("error %q does not contain %q", err, msg)
		}
		var e *Error
		if !errors.As(err, &e) || e.Kind != kind {
			t.Fatalf("error %#v is not an *Error of kind %v", err, kind)
		}
	}
	none := Limits{}
	form := "application/x-www-form-urlencoded"
	f(RequestInput{Path: "/e/"}, none, ErrEmptyPayload, "request missing data payload")
	f(RequestInput{Path: "/e/", Query: []byte("data=")}, none, ErrEmptyPayload, "request missing data payload")
	f(RequestInput{Path: "/e/", ContentType: form, Body: []byte("ver=1&data=")}, none, ErrEmptyPayload, "form has no data field")
	f(RequestInput{Path: "/e/", ContentType: form, Body: []byte("ip=1&ver=1")}, none, ErrEmptyPayload, "form has no data field")
	f(RequestInput{Path: "/e/", ContentType: form, Body: []byte(decodeEvent)}, none, ErrInvalidPayload, "not a form")
	f(RequestInput{Path: "/e/", ContentType: form, Body: []byte("data=%zz")}, none, ErrInvalidPayload, "decode form data: invalid percent escape")
	f(RequestInput{Path: "/e/", Query: []byte("data=%4")}, none, ErrInvalidPayload, "decode query data")
	// Django: a truncated gzip stream
	f(RequestInput{Path: "/track", Query: []byte("compression=gzip"), Body: []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")}, none, ErrInvalidPayload, "decode gzip body: unexpected EOF")
	gz := gzipBytes(t, []byte(decodeEvent))
	bad := append([]byte(nil), gz...)
	bad[len(bad)-5] ^= 0xff // CRC / size trailer
	f(RequestInput{Path: "/batch/", Body: bad}, none, ErrInvalidPayload, "decode gzip body")
	f(RequestInput{Path: "/batch/", Body: []byte("\x1f\x8b\x08garbage")}, none, ErrInvalidPayload, "decode gzip body")
	// gzip bomb: 50 MB of zeros in about 50 KB
	bomb := gzipBytes(t, make([]byte, 50<<20))
	f(RequestInput{Path: "/batch/", Body: bomb}, Limits{MaxDecoded: 1 << 20}, ErrTooLarge, "decode gzip body: decoded size passes the limit of 1048576 bytes")
	f(RequestInput{Path: "/batch/", Body: []byte(decodeEvent)}, Limits{MaxDecoded: 10}, ErrTooLarge, "decode payload: decoded size passes the limit of 10 bytes")
	f(RequestInput{Path: "/batch/", ContentEncoding: "lz64", Body: []byte(lzCompressToBase64(strings.Repeat("[1]", 100000)))}, Limits{MaxDecoded: 1000}, ErrTooLarge, "decode lz64 body")
	// Django: "foo" with compression=lz64
	f(RequestInput{Path: "/track", Query: []byte("compression=lz64"), Body: []byte("!!!")}, none, ErrInvalidPayload, "decode lz64 body")
	// invalid UTF-8
	f(RequestInput{Path: "/batch/", Body: []byte("{\"event\":\"\xff\xfe\"}")}, none, ErrInvalidPayload, "not valid utf-8")
	f(RequestInput{Path: "/batch/", Body: gzipBytes(t, []byte("[\xc3\x28]"))}, none, ErrInvalidPayload, "not valid utf-8")
}

func TestLooksLikeForm(t *testing.T) {
	f := func(s string, want bool) {
		t.Helper()
		if got := looksLikeForm([]byte(s)); got != want {
			t.Fatalf("looksLikeForm(%q) = %v, want %v", s, got, want)
		}
	}
	f("data=abc", true)
	f("_=1&data=x", true)
	f("ip=1", true)
	f("compression=lz64&data=x", true)
	f("ver=1&data=x", true)
	f("ver=1&x=1&compression=gzip", true)
	f("ver=1", false)
	f("xdata=1", false)
	f(`{"data=":1}`, false)
	f("", false)
	f(strings.Repeat("a", 130)+"&data=x", false) // only the first 128 bytes count
}

func TestRepairLoneSurrogates(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		b := []byte(in)
		repairLoneSurrogates(b)
		if string(b) != want {
			t.Fatalf("repairLoneSurrogates(%q) = %q, want %q", in, b, want)
		}
	}
	f(``, ``)
	f(`"plain"`, `"plain"`)
	f(`"\ud83c"`, `"\ufffd"`)
	f(`"\uD83C\uDF89"`, `"\uD83C\uDF89"`)
	f(`"\ud83c\ud83c"`, `"\ufffd\ufffd"`)
	f(`"\ud83c\ud83c\udf89"`, `"\ufffd\ud83c\udf89"`)
	f(`"\udf89\ud83c"`, `"\ufffd\ufffd"`)
	f(`"\\ud83c"`, `"\\ud83c"`)
	f(`"\\\ud83c"`, `"\\\ufffd"`)
	f(`"\u00e9\n\"\ud83c`, `"\u00e9\n\"\ufffd`)
	f(`"\ud83`, `"\ud83`)
	f(`"\`, `"\`)
	f(`"\ud83c\u`, `"\ufffd\u`)
}

func TestFormUnescape(t *testing.T) {
	f := func(in, want string, ok bool) {
		t.Helper()
		got, err := formUnescape([]byte(in))
		if (err == nil) != ok || (ok && !bytes.Equal(got, []byte(want))) {
			t.Fatalf("formUnescape(%q) = %q, %v; want %q, ok=%v", in, got, err, want, ok)
		}
	}
	f("", "", true)
	f("a+b%20c%2B%2b", "a b c++", true)
	f("%7B%22a%22%3A1%7D", `{"a":1}`, true)
	f("%", "", false)
	f("%4", "", false)
	f("%4g", "", false)
	f("abc%", "", false)
}
