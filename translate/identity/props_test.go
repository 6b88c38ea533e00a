package identity

import (
	"bytes"
	"testing"
)

func TestMergeObject(t *testing.T) {
	f := func(base, patch, want string) {
		t.Helper()
		if got := string(mergeObject([]byte(base), []byte(patch))); got != want {
			t.Errorf("mergeObject(%s, %s) = %s, want %s", base, patch, got, want)
		}
	}
	f(`{"a":1}`, `{"b":2}`, `{"a":1,"b":2}`)
	f(`{"a":1,"b":2}`, `{"a":null}`, `{"b":2}`)
	f(`{"a":1}`, `{"a":{"x":[1,{"y":"}"}]}}`, `{"a":{"x":[1,{"y":"}"}]}}`)
	f(``, `{"a":1,"b":null}`, `{"a":1}`)
	f(`"str"`, `{"a":1}`, `{"a":1}`)
	f(`{"a":1}`, `{}`, `{"a":1}`)
	f(`{ "a" : 1 , "b":"x\"y" }`, `{"c":true}`, `{"a":1,"b":"x\"y","c":true}`)
	f(`{"a\"q":1}`, `{"a\"q":2}`, `{"a\"q":2}`)
	f(`{"n":1e400}`, `{"m":-0.0}`, `{"n":1e400,"m":-0.0}`)
	f(`{"a":1}`, `{"a":1`, `{"a":1`)  // malformed patch: returned as is
	f(`{"a":1`, `{"b":2}`, `{"b":2}`) // malformed base: counts as empty
	// A repeated key in a stored object: changes hit its first live member.
	f(`{"a":1,"b":2,"a":3}`, `{"a":4}`, `{"a":4,"b":2,"a":3}`)
	f(`{"a":1,"b":2,"a":3}`, `{"a":null,"a":5}`, `{"b":2,"a":5}`)
	f(`{"a":1,"b":2,"a":3}`, `{"a":null,"a":null,"a":6}`, `{"b":2,"a":6}`)
	// A removed key comes back at the end.
	f(`{"a":1,"b":2}`, `{"a":null,"c":3,"a":4}`, `{"b":2,"c":3,"a":4}`)
	f(`{"a":1}`, `{"a":  null  ,"b":nullx}`, `{"b":nullx}`)
}

// TestMergeObjectCopies: the result of a merge never shares memory with the
// patch, whose bytes belong to a request.
func TestMergeObjectCopies(t *testing.T) {
	f := func(base, patch string) {
		t.Helper()
		p := []byte(patch)
		out := mergeObject([]byte(base), p)
		want := string(out)
		for i := range p {
			p[i] = 'x'
		}
		if string(out) != want {
			t.Errorf("mergeObject(%s, %s) changed with the patch: %s", base, patch, out)
		}
	}
	f(`{"a":1}`, `{"b":"v"}`)
	f(`{"a":1}`, `{"a":1`) // malformed: returned as a copy
	f(``, `{"x":{"y":1}}`)
}

// TestParseProps: stored properties come back sorted, without nulls, the
// last of a repeated name winning.
func TestParseProps(t *testing.T) {
	f := func(raw, want string) {
		t.Helper()
		l, err := parseProps([]byte(raw))
		if err != nil {
			t.Fatalf("parseProps(%s): %v", raw, err)
		}
		if got := string(l.appendJSON(nil)); got != want {
			t.Errorf("parseProps(%s) = %s, want %s", raw, got, want)
		}
	}
	f(`{"b":1,"a":2,"b":3,"c":null}`, `{"a":2,"b":3}`)
	f(`{"z":{"k":1},"y":"s","x\u0041":[1]}`, `{"xA":[1],"y":"s","z":{"k":1}}`)
	f(`null`, `{}`)
	f(`{}`, `{}`)
}

func TestSplitObject(t *testing.T) {
	f := func(in string, n int, ok bool) {
		t.Helper()
		ms, gotOK := splitObject([]byte(in), nil)
		if gotOK != ok || (ok && len(ms) != n) {
			t.Errorf("splitObject(%q) = %d members, %v; want %d, %v", in, len(ms), gotOK, n, ok)
		}
	}
	f(`{}`, 0, true)
	f(` { } `, 0, true)
	f(`{"a":1}`, 1, true)
	f(`{"a":[1,2,{"b":"]"}],"c":"\\"}`, 2, true)
	f(`[]`, 0, false)
	f(`{"a"}`, 0, false)
	f(`{"a":}`, 0, false)
	f(`{"a":1,}`, 0, false)
	f(`{"a":"unterminated}`, 0, false)
	f(`{a:1}`, 0, false)
	f(``, 0, false)
}

func TestAppendJSONString(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := string(appendJSONString(nil, in)); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
	}
	f("plain", `"plain"`)
	f(`q"b\`, `"q\"b\\"`)
	f("\n\r\t\x01", `"\n\r\t\u0001"`)
	f("ключ", `"ключ"`)
	f("", `""`)
}

func TestNormalize(t *testing.T) {
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	f(NormalizeEmail("  Ann.B+tag@Example.COM \t"), "ann.b+tag@example.com")
	f(NormalizeID("  User-1 "), "User-1")
	f(uuidForm("0190A4B2-1C3D-7E4F-8A9B-0C1D2E3F4A5B"), "0190a4b2-1c3d-7e4f-8a9b-0c1d2e3f4a5b")
	f(uuidForm("not-a-uuid"), "")

	u := func(s string, want bool) {
		t.Helper()
		if LooksLikeUUID(s) != want {
			t.Errorf("LooksLikeUUID(%q) != %v", s, want)
		}
	}
	u("0190a4b2-1c3d-7e4f-8a9b-0c1d2e3f4a5b", true)
	u("0190A4B2-1C3D-7E4F-8A9B-0C1D2E3F4A5B", true)
	u("0190a4b21c3d7e4f8a9b0c1d2e3f4a5b", false)
	u("{0190a4b2-1c3d-7e4f-8a9b-0c1d2e3f4a5b}", false)
	u("0190a4b2-1c3d-7e4f-8a9b-0c1d2e3f4a5g", false)
	u("0190a4b2x1c3d-7e4f-8a9b-0c1d2e3f4a5b", false)
}

func FuzzMergeObject(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":[1,"]"]}}`), []byte(`{"a":null,"d":"x"}`))
	f.Add([]byte(`{}`), []byte(`{"a":"\"}"}`))
	f.Add([]byte(`{"a":1,"b":2,"a":3}`), []byte(`{"a":null,"b":null,"a":4,"c":5}`))
	f.Fuzz(func(t *testing.T, base, patch []byte) {
		out := mergeObject(base, patch)
		if want := mergeObjectByScan(base, patch); !bytes.Equal(out, want) {
			t.Fatalf("mergeObject(%q, %q) = %q, by scan %q", base, patch, out, want)
		}
		if _, ok := splitObject(patch, nil); ok {
			// A merge of a well-formed patch is always a well-formed object.
			if _, ok := splitObject(out, nil); !ok {
				t.Fatalf("mergeObject(%q, %q) = %q: not an object", base, patch, out)
			}
		}
	})
}
