package jsontext

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// posthogBatch is a batch of 50 posthog-js-shaped events, as /batch/ gets them.
func posthogBatch() []byte {
	var sb strings.Builder
	sb.WriteString(`{"api_key":"phc_bench","batch":[`)
	for e := range 50 {
		if e > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"uuid":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f%04d","event":"$pageview","properties":{"distinct_id":"visitor-%d","$current_url":"https://app.example/pricing?i=%d","$host":"app.example","$pathname":"/pricing","$browser":"Chrome","$browser_version":131,"$os":"Mac OS X","$screen_height":1117,"$screen_width":1728,"$lib":"web","$lib_version":"1.449.2","$time":1796000000.123,"$session_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","$referrer":"$direct","$is_identified":false,"title":"Pricing \"plans\""}}`, e, e, e)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

func BenchmarkValidate(b *testing.B) {
	text := posthogBatch()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if Validate(text, MaxDepth) != Valid {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkGJSONValid is the validator Validate replaces (which also needed
// a separate scan for the depth).
func BenchmarkGJSONValid(b *testing.B) {
	text := posthogBatch()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if !gjson.ValidBytes(text) {
			b.Fatal("invalid")
		}
	}
}
