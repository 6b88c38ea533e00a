package clickhouse

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// FuzzDecodeDeadLetterRecord: a dead letter's record decodes exactly when
// its base64 holds a spool encoding, to the batch that encoding holds, and
// writing that batch as a record again gives a record that decodes the
// same (what replaying a dead letter relies on).
func FuzzDecodeDeadLetterRecord(f *testing.F) {
	f.Add(canonical.AppendBatch(nil, &canonical.Batch{Events: []canonical.Event{{Name: "e", Source: "api"}}}))
	f.Add([]byte{2, 0, 0, 0, 0, 0})
	f.Add([]byte("not a batch"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		record := base64.StdEncoding.EncodeToString(raw)
		got, err := DecodeDeadLetterRecord(record)
		var want canonical.Batch
		wantErr := canonical.DecodeBatch(raw, &want)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("record decodes: %v, its encoding decodes: %v", err, wantErr)
		}
		if err != nil {
			return
		}
		again := base64.StdEncoding.EncodeToString(canonical.AppendBatch(nil, &got))
		back, err := DecodeDeadLetterRecord(again)
		if err != nil {
			t.Fatalf("a record written from a decoded one does not decode: %v", err)
		}
		if !bytes.Equal(canonical.AppendBatch(nil, &back), canonical.AppendBatch(nil, &got)) {
			t.Fatal("a record written from a decoded one decodes to another batch")
		}
	})
	if _, err := DecodeDeadLetterRecord("%%%"); err == nil {
		f.Fatal("a record that is not base64 decoded")
	}
}
