package canonical

import (
	"bytes"
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/google/uuid"
)

func sampleBatch() *Batch {
	id := uuid.MustParse("018f0000-0000-7000-8000-000000000001")
	return &Batch{
		Events: []Event{{
			ID: id, Name: "signup", UserID: "u1", ContactID: id, Properties: []byte(`{"a":1}`),
			HasValue: true, Value: 12.5, Currency: "USD", Groups: []byte(`{}`), Source: "api",
			IdempotencyKey: "k", DistinctID: "d", Lib: "web", IP: "1.2.3.4", OccurredAt: 1700000000123, ReceivedAt: 1700000000456, Historical: true,
		}},
		Contacts: []Contact{{ID: id, ExternalID: "u1", Email: "a@b.co", Properties: []byte(`{"x":"y"}`), FirstSeenAt: 1, LastSeenAt: 2, CreatedAt: 1, UpdatedAt: 2, Version: 7}},
		Aliases:  []Alias{{Kind: KindEmail, Value: "a@b.co", ContactID: id, Reason: ReasonResolve, Version: 7, At: 2}, {Kind: KindExternal, Value: "old", Deleted: true, Version: 8}},
		APIKeys:  []APIKey{{Hash: "ab", Prefix: "hsk_abcd", Name: "n", Scopes: []string{"ingest", "read"}, CreatedAt: 5}, {Hash: "cd", Prefix: "pk_abcde", Scopes: []string{"ingest-public"}, AllowedOrigins: []string{"https://app.example"}}},
		Lists:    []ListMembership{{ContactID: id, Email: "a@b.co", ListID: "news", Subscribed: true, Version: 7, At: 2}},
	}
}

func TestBatchRoundTrip(t *testing.T) {
	in := sampleBatch()
	enc := AppendBatch(nil, in)
	var out Batch
	if err := DecodeBatch(enc, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, &out) {
		t.Fatalf("round trip mismatch:\n in: %+v\nout: %+v", in, &out)
	}
	// Every strict prefix is corrupt, never a panic or a silent success.
	for i := 0; i < len(enc); i++ {
		if err := DecodeBatch(enc[:i], &out); err == nil {
			t.Fatalf("prefix of %d bytes decoded without error", i)
		}
	}
}

// TestBatchGolden pins the older encodings, which still decode: version 2
// (before engine calls) and version 1 (before SecretToken), as an event
// without a secret token. Version 3 is pinned by TestFullBatchGolden.
func TestBatchGolden(t *testing.T) {
	f := func(file string, want *Batch, encodesTo bool) {
		t.Helper()
		golden, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var got Batch
		if err := DecodeBatch(golden, &got); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !reflect.DeepEqual(want, &got) {
			t.Fatalf("%s decodes to\n%+v\nwant\n%+v", file, &got, want)
		}
		if enc := AppendBatch(nil, want); encodesTo != bytes.Equal(enc, golden) {
			t.Fatalf("%s: encoding equal to the golden file is %v, want %v", file, !encodesTo, encodesTo)
		}
	}
	secret := sampleBatch()
	secret.Events[0].SecretToken = true
	f("testdata/batch_v2.bin", secret, false)
	f("testdata/batch_v1.bin", sampleBatch(), false)
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(AppendBatch(nil, sampleBatch()))
	f.Add([]byte{1, 0, 0, 0, 0, 0})
	f.Add([]byte{2, 0, 0, 0, 0, 0})
	f.Add([]byte{3, 0, 0, 0, 0, 0, 1, 0})
	if v1, err := os.ReadFile("testdata/batch_v1.bin"); err == nil {
		f.Add(v1)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Batch
		if err := DecodeBatch(data, &b); err != nil {
			return
		}
		// A successful decode must survive a re-encode unchanged. The
		// encodings are compared as bytes as well as the values: a NaN
		// value (a bit pattern the codec carries as is) never equals
		// itself under DeepEqual, but its bits must still round-trip.
		enc := AppendBatch(nil, &b)
		var again Batch
		if err := DecodeBatch(enc, &again); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(enc, AppendBatch(nil, &again)) {
			t.Fatalf("re-encode changed the encoding")
		}
		for i := range b.Events {
			if math.IsNaN(b.Events[i].Value) {
				b.Events[i].Value, again.Events[i].Value = 0, 0
			}
		}
		if !reflect.DeepEqual(normal(&b), normal(&again)) {
			t.Fatalf("re-encode changed the batch")
		}
	})
}

// normal maps empty slices to nil so DeepEqual compares content only.
func normal(b *Batch) *Batch {
	c := *b
	for i := range c.Events {
		c.Events[i].Properties = nilIfEmpty(c.Events[i].Properties)
		c.Events[i].Groups = nilIfEmpty(c.Events[i].Groups)
		c.Events[i].TopLevel = nilIfEmpty(c.Events[i].TopLevel)
	}
	for i := range c.Calls {
		c.Calls[i].Body = nilIfEmpty(c.Calls[i].Body)
	}
	for i := range c.Contacts {
		c.Contacts[i].Properties = nilIfEmpty(c.Contacts[i].Properties)
	}
	return &c
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
