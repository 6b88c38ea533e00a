package ingest

import (
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// benchTrustProps are posthog-js $pageview properties (30 members).
const benchTrustProps = `{"token":"phc_bench","distinct_id":"visitor-1","$current_url":"https://app.example/pricing?i=1","$host":"app.example","$pathname":"/pricing","$browser":"Chrome","$browser_version":131,"$os":"Mac OS X","$os_version":"15.1","$device_type":"Desktop","$screen_height":1117,"$screen_width":1728,"$viewport_height":959,"$viewport_width":1728,"$lib":"web","$lib_version":"1.449.2","$insert_id":"1","$time":1795000000,"$session_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","$window_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a6c","$pageview_id":"1","$referrer":"$direct","$referring_domain":"$direct","$is_identified":true,"$device_id":"0193a1b2-0000-7000-8000-000000000001","title":"Pricing"`

// BenchmarkEventProof is what trust adds to an event: the user token
// looked for (and, when present, verified) and the stored properties.
func BenchmarkEventProof(b *testing.B) {
	token := apikeys.SignUserToken("u1", time.Now().Add(time.Hour), "secret")
	for _, c := range []struct{ name, props string }{
		{"Without", benchTrustProps + `}`},
		{"WithUserToken", benchTrustProps + `,"$hogsend_user_token":"` + token + `"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			ev := posthog.RawEvent{Properties: gjson.Parse(c.props)}
			rt := requestTrust{level: identity.TrustPublic, userSecret: "secret", now: time.Now()}
			b.ReportAllocs()
			b.SetBytes(int64(len(c.props)))
			for b.Loop() {
				if _, warn := rt.provenUser(&ev); warn != "" {
					b.Fatal(warn)
				}
				if len(eventProperties(&ev)) == 0 {
					b.Fatal("no properties")
				}
			}
		})
	}
}
