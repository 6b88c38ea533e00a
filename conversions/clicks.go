package conversions

import (
	"net/url"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// ClickKinds are the click and browser ids recorded from events: the click
// ids Hogsend allowlists, plus the cookies platforms match on (Meta's _fbc
// and _fbp, TikTok's _ttp, Reddit's _rdt_uuid).
var clickKinds = []string{
	"fbclid", "gclid", "gbraid", "wbraid", "ttclid", "msclkid", "li_fat_id", "twclid", "rdt_cid", "epik", "sccid",
	"fbc", "fbp", "ttp", "rdt_uuid",
}

// clickAliases are other property names of the same ids: cookie names,
// PostHog's $-prefixed forms, Hogsend's camelCase.
var clickAliases = map[string]string{
	"_fbc": "fbc", "$fbc": "fbc", "_fbp": "fbp", "$fbp": "fbp", "_ttp": "ttp", "$ttp": "ttp",
	"_rdt_uuid": "rdt_uuid", "$rdt_uuid": "rdt_uuid", "liFatId": "li_fat_id",
}

// maxClickIDBytes bounds a recorded id: real ones are well under 200 bytes.
const maxClickIDBytes = 512

// FoundClick is one click or browser id found on an event.
type FoundClick struct{ Kind, Value string }

// ExtractClicks finds the click ids an event carries: as top-level
// properties (PostHog's campaign params, native properties), as
// $initial_* / plain keys in $set and $set_once, under a "clickIds" object
// (Hogsend's campaign.arrived), and in the query of $current_url or url.
// The first value found per kind wins.
func ExtractClicks(props []byte) []FoundClick {
	if len(props) == 0 || !gjson.ValidBytes(props) {
		return nil
	}
	// A view of props, not a copy (every event passes through here); the
	// values kept are cloned.
	text := unsafe.String(unsafe.SliceData(props), len(props))
	var out []FoundClick
	seen := make(map[string]bool, 4)
	add := func(kind, value string) {
		value = strings.TrimSpace(value)
		if value == "" || len(value) > maxClickIDBytes || seen[kind] {
			return
		}
		seen[kind] = true
		out = append(out, FoundClick{Kind: kind, Value: strings.Clone(value)})
	}
	scan := func(obj gjson.Result, prefix string) {
		obj.ForEach(func(k, v gjson.Result) bool {
			if v.Type != gjson.String {
				return true
			}
			name := strings.TrimPrefix(k.Str, prefix)
			if kind, ok := clickKindOf(name); ok {
				add(kind, v.Str)
			}
			return true
		})
	}
	root := gjson.Parse(text)
	scan(root, "")
	scan(root.Get(`clickIds`), "")
	scan(root.Get(`\$set`), "$initial_")
	scan(root.Get(`\$set_once`), "$initial_")
	for _, key := range []string{`\$current_url`, "url"} {
		if u := root.Get(key); u.Type == gjson.String {
			for kind, v := range queryClicks(u.Str) {
				add(kind, v)
			}
		}
	}
	return out
}

func clickKindOf(name string) (string, bool) {
	if k, ok := clickAliases[name]; ok {
		return k, true
	}
	for _, k := range clickKinds {
		if k == name {
			return k, true
		}
	}
	return "", false
}

func queryClicks(raw string) map[string]string {
	q := strings.IndexByte(raw, '?')
	if q < 0 {
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
