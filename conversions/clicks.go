package conversions

import (
	"net/url"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// maxClickIDBytes bounds a recorded id: real ones are well under 200 bytes.
const maxClickIDBytes = 512

// FoundClick is one click or browser id found on an event.
type FoundClick struct{ Kind, Value string }

// ExtractClicks finds the click ids an event carries: as top-level
// properties (PostHog's campaign params, native properties), as
// $initial_* / plain keys in $set and $set_once, under a "clickIds" object
// (Hogsend's campaign.arrived), and in the query of $current_url or url.
// The first value found per kind wins. It runs for every stored event, so
// it reads the top level of props once and only descends where ids live.
func ExtractClicks(props []byte) []FoundClick {
	if len(props) == 0 {
		return nil
	}
	// A view of props, not a copy; the values kept are cloned.
	text := unsafe.String(unsafe.SliceData(props), len(props))
	root := gjson.Parse(text)
	if !root.IsObject() {
		return nil
	}
	var out []FoundClick
	has := func(kind string) bool {
		for _, c := range out {
			if c.Kind == kind {
				return true
			}
		}
		return false
	}
	add := func(kind, value string) {
		value = strings.TrimSpace(value)
		if kind == "ga_client_id" {
			value = gaClientID(value)
		}
		if value == "" || len(value) > maxClickIDBytes || has(kind) {
			return
		}
		// Both may be views of props (a kind is its property name).
		out = append(out, FoundClick{Kind: strings.Clone(kind), Value: strings.Clone(value)})
	}
	scan := func(obj gjson.Result, prefix string) {
		obj.ForEach(func(k, v gjson.Result) bool {
			if v.Type == gjson.String {
				if kind, ok := clickKindOf(strings.TrimPrefix(k.Str, prefix)); ok {
					add(kind, v.Str)
				}
			}
			return true
		})
	}
	// Nested objects and URLs come after the top-level ids: a property wins.
	var nested []gjson.Result
	var prefixes []string
	var urls []string
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "clickIds":
			nested, prefixes = append(nested, v), append(prefixes, "")
		case "$set", "$set_once":
			nested, prefixes = append(nested, v), append(prefixes, "$initial_")
		case "$current_url", "url":
			if v.Type == gjson.String {
				urls = append(urls, v.Str)
			}
		default:
			if v.Type == gjson.String {
				if kind, ok := clickKindOf(k.Str); ok {
					add(kind, v.Str)
				}
			}
		}
		return true
	})
	for i, obj := range nested {
		if obj.IsObject() {
			scan(obj, prefixes[i])
		}
	}
	for _, u := range urls {
		for kind, v := range queryClicks(u) {
			add(kind, v)
		}
	}
	return out
}

// clickKindOf maps a property name to the click or browser id it holds:
// the click ids Hogsend allowlists, the cookies platforms match on (Meta's
// _fbc and _fbp, TikTok's _ttp, Reddit's _rdt_uuid) under their cookie,
// PostHog ($-prefixed) and camelCase names.
func clickKindOf(name string) (string, bool) {
	switch name {
	case "fbclid", "gclid", "gbraid", "wbraid", "ttclid", "msclkid", "li_fat_id", "twclid", "rdt_cid", "epik", "sccid",
		"fbc", "fbp", "ttp", "rdt_uuid":
		return name, true
	case "_fbc", "$fbc":
		return "fbc", true
	case "_fbp", "$fbp":
		return "fbp", true
	case "_ttp", "$ttp":
		return "ttp", true
	case "_rdt_uuid", "$rdt_uuid":
		return "rdt_uuid", true
	case "liFatId":
		return "li_fat_id", true
	case "ga_client_id", "$ga_client_id", "_ga":
		return "ga_client_id", true
	}
	return "", false
}

func queryClicks(raw string) map[string]string {
	q := strings.IndexByte(raw, '?')
	if q < 0 {
		return nil
	}
	// Every click parameter name contains one of these; a URL without any
	// is not parsed.
	hinted := false
	for _, h := range [...]string{"clid", "braid", "fat_id", "rdt_cid", "epik", "sccid"} {
		hinted = hinted || strings.Contains(raw[q:], h)
	}
	if !hinted {
		return nil
	}
	query := raw[q+1:]
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query = query[:h]
	}
	vals, err := url.ParseQuery(query)
	if err != nil && len(vals) == 0 {
		return nil
	}
	var out map[string]string
	for name, vs := range vals {
		if kind, ok := clickKindOf(name); ok && len(vs) > 0 && kind != "fbc" && kind != "fbp" {
			if out == nil {
				out = make(map[string]string, 2)
			}
			out[kind] = vs[0]
		}
	}
	return out
}

// gaClientID is the client id of a _ga cookie value ("GA1.1.1234.5678" →
// "1234.5678"); a bare client id is kept as it is.
func gaClientID(v string) string {
	if !strings.HasPrefix(v, "GA") {
		return v
	}
	parts := strings.Split(v, ".")
	if len(parts) < 4 {
		return v
	}
	return parts[len(parts)-2] + "." + parts[len(parts)-1]
}
