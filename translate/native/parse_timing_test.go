package native

import "testing"

var benchEventBody = []byte(`{"name":"page.viewed","email":"user123@bench.example","eventProperties":{"path":"/pricing","n":42},"contactProperties":{"plan":"pro"}}`)

func BenchmarkParseEvent(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEventBody)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseEvent(benchEventBody, true, ""); err != nil {
			b.Fatal(err)
		}
	}
}
