package clickhouse

import "testing"

// BenchmarkAppendTSVProperties escapes what dominates an event row's bytes:
// a browser event's properties JSON (about 1.3 KB, a few escapes).
func BenchmarkAppendTSVProperties(b *testing.B) {
	props := []byte(`{"$os":"Mac OS X","$os_version":"10.15.7","$browser":"Chrome","$device_type":"Desktop",` +
		`"$current_url":"https://app.example.com/settings/billing?tab=invoices","$host":"app.example.com",` +
		`"$pathname":"/settings/billing","$raw_user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ` +
		`AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36","$browser_version":120,` +
		`"$browser_language":"en-US","$screen_height":1117,"$screen_width":1728,"$viewport_height":992,` +
		`"$viewport_width":1728,"$lib":"web","$lib_version":"1.96.1","$insert_id":"k2c1b8yq0n3v6s5d",` +
		`"$time":1701234567.891,"distinct_id":"0192f0c4-7a1b-7c3d-8e4f-a0b1c2d3e4f5","$device_id":` +
		`"0192f0c4-7a1b-7c3d-8e4f-a0b1c2d3e4f5","$referrer":"$direct","$referring_domain":"$direct",` +
		`"title":"Billing \u2014 Example's app","$session_id":"0192f0c4-7a1b-7c3d-8e4f-a0b1c2d3e4f6",` +
		`"$window_id":"0192f0c4-7a1b-7c3d-8e4f-a0b1c2d3e4f7","$pageview_id":"0192f0c4-7a1b-7c3d-8e4f-a0b1c2d3e4f8",` +
		`"$el_text":"Download\\tPDF","plan":"pro","seats":12,"$feature/new-billing":true,` +
		`"utm_source":null,"$sent_at":"2026-12-07T05:52:00.000Z"` + `}`)
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(props)))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendTSVBytes(buf[:0], props)
	}
}
