package native

import (
	"unsafe"

	"github.com/tidwall/gjson"
)

// fieldNames are the top-level members the native bodies read; any other
// member is dropped, as zod drops unknown keys.
var fieldNames = [...]string{
	"name", "email", "userId", "anonymousId", "properties", "eventProperties", "contactProperties",
	"value", "currency", "lists", "groups", "idempotencyKey", "timestamp", "userToken",
}

// fieldSet is the last value of each known top-level member, as JSON.parse
// keeps it: a fixed table instead of a map, so that reading a body
// allocates nothing for it.
type fieldSet struct {
	vals [len(fieldNames)]gjson.Result
	has  [len(fieldNames)]bool
}

func fieldIndex(name string) int {
	for i, n := range fieldNames {
		if n == name {
			return i
		}
	}
	return -1
}

// fields reads the known members of root into f.
func fields(root gjson.Result, f *fieldSet) {
	root.ForEach(func(k, v gjson.Result) bool {
		if i := fieldIndex(k.String()); i >= 0 {
			f.vals[i], f.has[i] = v, true
		}
		return true
	})
}

// get is the member name, ok false when the body has none.
func (f *fieldSet) get(name string) (gjson.Result, bool) {
	i := fieldIndex(name)
	if i < 0 {
		return gjson.Result{}, false
	}
	return f.vals[i], f.has[i]
}

// rawBytes is JSON text of the parsed body as a read-only view: the body
// string is immutable, and what holds the view (a record on its way to the
// spool, whose encoding copies it; an identity op, whose store copies what
// it keeps) never writes to it.
func rawBytes(raw string) []byte {
	return unsafe.Slice(unsafe.StringData(raw), len(raw))
}

// emptyObject is "{}" as a read-only view of a constant.
func emptyObject() []byte { return rawBytes("{}") }
