package canonical

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// recordTypes are the records a spool Batch carries, in encoding order.
var recordTypes = []any{Event{}, Contact{}, Alias{}, APIKey{}, ListMembership{}, EngineCall{}}

// recordLayout lists every field of every record, name and type, one
// record a line.
func recordLayout() string {
	var b strings.Builder
	for _, r := range recordTypes {
		t := reflect.TypeOf(r)
		fmt.Fprintf(&b, "%s:", t.Name())
		for i := range t.NumField() {
			fmt.Fprintf(&b, " %s %s;", t.Field(i).Name, t.Field(i).Type)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestRecordLayoutPinned fails when a record gains, loses or changes a
// field while codecVersion stays: spool files written by an older build
// would then decode misaligned. testdata/layout_v<N>.txt is the layout
// version N encodes.
func TestRecordLayoutPinned(t *testing.T) {
	file := fmt.Sprintf("testdata/layout_v%d.txt", codecVersion)
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v: a new codecVersion needs its layout file (write recordLayout() to it)", err)
	}
	if got := recordLayout(); got != string(want) {
		t.Fatalf("the records differ from %s:\n%s\nwant\n%s\nA record that changes needs a new codecVersion, a decoder "+
			"branch for the old one, a golden batch_v<N>.bin and layout_v<N>.txt", file, got, want)
	}
}

// fullBatch is sampleBatch (pinned by the older golden files) with every
// other field set too.
func fullBatch() *Batch {
	b := sampleBatch()
	b.Events[0].SecretToken, b.Events[0].Token = true, "phc_project"
	b.Events[0].TopLevel = []byte(`{"$set":{"email":"a@b.co"}}`)
	c := &b.Contacts[0]
	c.AnonymousID, c.Source, c.DeletedAt = "anon-1", "posthog", 3
	b.Aliases[0].FromContactID = b.Events[0].ID
	b.APIKeys[0].ExpiresAt, b.APIKeys[0].RevokedAt = 9, 8
	b.Calls = []EngineCall{{ID: b.Events[0].ID, Kind: CallEvent, ContactID: c.ID, Body: []byte(`{"userId":"u1"}`), Awaited: true}}
	return b
}

// fullBatchV2 is fullBatch as version 2 carried it: without the event's
// token and the engine calls.
func fullBatchV2() *Batch {
	b := fullBatch()
	b.Events[0].Token, b.Events[0].TopLevel, b.Calls = "", nil, nil
	return b
}

// TestFullBatchGolden pins the encoding of every field of version 3 and
// round-trips it; version 2's full batch still decodes, with no calls.
func TestFullBatchGolden(t *testing.T) {
	golden, err := os.ReadFile("testdata/batch_v3_full.bin")
	if err != nil {
		t.Fatal(err)
	}
	want := fullBatch()
	if enc := AppendBatch(nil, want); !bytes.Equal(enc, golden) {
		t.Fatalf("the encoding of fullBatch differs from testdata/batch_v3_full.bin")
	}
	var got Batch
	if err := DecodeBatch(golden, &got); err != nil || !reflect.DeepEqual(want, &got) {
		t.Fatalf("testdata/batch_v3_full.bin decodes to %+v (%v), want %+v", &got, err, want)
	}
	v2, err := os.ReadFile("testdata/batch_v2_full.bin")
	if err != nil {
		t.Fatal(err)
	}
	var old Batch
	if err := DecodeBatch(v2, &old); err != nil || !reflect.DeepEqual(fullBatchV2(), &old) {
		t.Fatalf("testdata/batch_v2_full.bin decodes to %+v (%v), want %+v", &old, err, fullBatchV2())
	}
}

// TestFullBatchSetsEveryField: every field of every record is set in
// fullBatch, so the round trip and its golden file cover each field the
// codec must carry.
func TestFullBatchSetsEveryField(t *testing.T) {
	b := fullBatch()
	for _, records := range []any{b.Events, b.Contacts, b.Aliases, b.APIKeys, b.Lists, b.Calls} {
		v := reflect.ValueOf(records)
		typ := v.Type().Elem()
		for f := range typ.NumField() {
			set := false
			for i := range v.Len() {
				set = set || !v.Index(i).Field(f).IsZero()
			}
			if !set {
				t.Errorf("%s.%s is zero in every sample record", typ.Name(), typ.Field(f).Name)
			}
		}
	}
}
