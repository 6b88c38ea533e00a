package posthog

import (
	"fmt"
	"testing"

	"github.com/tidwall/gjson"
)

// walkTrace renders what a walk yields, to compare with gjson.ForEach.
func walkTrace(text string, ours bool) []string {
	var out []string
	add := func(k string, v gjson.Result) {
		out = append(out, fmt.Sprintf("%q %d %q %q %v", k, v.Type, v.Raw, v.Str, v.Num))
	}
	root := gjson.Parse(text)
	start := skipSpace(text, 0)
	// Every other value is skipped rather than read, as the parser does.
	n := 0
	read := func(at int) int {
		n++
		if n%3 == 0 {
			out = append(out, "skipped")
			end := skipValue(text, at)
			if _, vend := valueAt(text, at); vend != end {
				out = append(out, "skipValue and valueAt disagree")
			}
			return end
		}
		return -1
	}
	switch {
	case ours && root.IsObject():
		members(text, start, func(k string, at int) int {
			if end := read(at); end >= 0 {
				return end
			}
			v, end := valueAt(text, at)
			add(k, v)
			return end
		})
	case ours && root.IsArray():
		elements(text, start, func(at int) int {
			if end := read(at); end >= 0 {
				return end
			}
			v, end := valueAt(text, at)
			add("", v)
			return end
		})
	case root.IsObject():
		root.ForEach(func(k, v gjson.Result) bool {
			if n++; n%3 == 0 {
				out = append(out, "skipped")
				return true
			}
			add(k.Str, v)
			return true
		})
	case root.IsArray():
		root.ForEach(func(_, v gjson.Result) bool {
			if n++; n%3 == 0 {
				out = append(out, "skipped")
				return true
			}
			add("", v)
			return true
		})
	}
	return out
}

func TestWalkMatchesGJSON(t *testing.T) {
	f := func(text string) {
		t.Helper()
		got, want := walkTrace(text, true), walkTrace(text, false)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s:\n got %q\nwant %q", text, got, want)
		}
	}
	f(`{}`)
	f(`[]`)
	f(` { "a" : 1 , "b":"x\"y\\" ,"c":[1,{"d":"}"}],"e":{"f":[]},"g":true,"h":false,"i":null,"j":-1.5e3 } `)
	f(`[{"event":"$pageview","properties":{"$current_url":"https://x/?a=\"]}"}},1,"s",[[]]]`)
	f(`{"k\u00e9y":"v\u00e9","\\":"\\\\"}`)
	f(`[ 1 , 2 ,"3" , {"a" : [ ]} ]`)
}

func FuzzWalk(f *testing.F) {
	for _, s := range []string{`{"a":{"b":["c",1,true]},"d":"e\\\"f"}`, `[1,"2",{"3":[4]}]`, `{"":""}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !gjson.Valid(text) {
			return
		}
		got, want := walkTrace(text, true), walkTrace(text, false)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q:\n got %q\nwant %q", text, got, want)
		}
	})
}
