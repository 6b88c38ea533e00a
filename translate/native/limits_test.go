package native

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

func numberedMembers(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d":%d`, i, i)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestLimits(t *testing.T) {
	l := Limits{MaxProperties: 3, MaxPropertyBytes: 16}
	event := func(b []byte) error { _, err := l.ParseEvent(b, true, ""); return err }
	pkEvent := func(b []byte) error { _, err := l.ParsePublishableEvent(b, true, ""); return err }
	contact := func(b []byte) error { _, err := l.ParseContactUpsert(b, true); return err }
	pkContact := func(b []byte) error { _, err := l.ParsePublishableContactUpsert(b, true); return err }
	// want is the zod envelope's issue array; "" for no error
	f := func(parse func([]byte) error, body, want string) {
		t.Helper()
		err := parse([]byte(body))
		var verr *ValidationError
		switch {
		case want == "" && err == nil:
			return
		case !errors.As(err, &verr):
			t.Fatalf("%s: %v, want %s", body, err, want)
		}
		if got := string(verr.appendIssues(nil)); got != want {
			t.Fatalf("%s:\n got %s\nwant %s", body, got, want)
		}
	}
	many := `[{"code":"custom","path":["%s"],"message":"Too many properties: expected at most 3"}]`
	big := `[{"code":"custom","path":["%s","big"],"message":"Property value too large: 22 bytes, expected at most 16"}]`
	f(event, `{"name":"e","userId":"u","eventProperties":`+numberedMembers(4)+`}`, fmt.Sprintf(many, "eventProperties"))
	f(event, `{"name":"e","userId":"u","contactProperties":`+numberedMembers(4)+`}`, fmt.Sprintf(many, "contactProperties"))
	f(pkEvent, `{"name":"e","anonymousId":"a","eventProperties":`+numberedMembers(4)+`}`, fmt.Sprintf(many, "eventProperties"))
	f(contact, `{"userId":"u","properties":`+numberedMembers(4)+`}`, fmt.Sprintf(many, "properties"))
	f(pkContact, `{"anonymousId":"a","properties":`+numberedMembers(4)+`}`, fmt.Sprintf(many, "properties"))
	f(event, `{"name":"e","userId":"u","eventProperties":{"big":"`+strings.Repeat("x", 20)+`"}}`, fmt.Sprintf(big, "eventProperties"))
	f(contact, `{"userId":"u","properties":{"big":["`+strings.Repeat("x", 18)+`"]}}`, fmt.Sprintf(big, "properties"))
	// at the limits
	f(event, `{"name":"e","userId":"u","eventProperties":`+numberedMembers(3)+`,"contactProperties":{"v":"`+strings.Repeat("x", 14)+`"}}`, "")
	f(contact, `{"userId":"u","properties":`+numberedMembers(3)+`}`, "")
	// the package functions apply the defaults
	if _, err := ParseEvent([]byte(`{"name":"e","userId":"u","eventProperties":`+numberedMembers(10001)+`}`), true, ""); err == nil ||
		!strings.Contains(err.Error(), "Too many properties: expected at most 10000") {
		t.Fatalf("default property count: %v", err)
	}
	if _, err := ParseContactUpsert([]byte(`{"userId":"u","properties":{"v":"`+strings.Repeat("x", 256<<10)+`"}}`), true); err == nil ||
		!strings.Contains(err.Error(), "expected at most 262144") {
		t.Fatalf("default property size: %v", err)
	}
}

// FuzzLimits: an accepted native body's records are within the caps.
func FuzzLimits(f *testing.F) {
	f.Add([]byte(`{"name":"e","userId":"u","eventProperties":`+numberedMembers(50)+`,"contactProperties":{"a":"`+strings.Repeat("x", 100)+`"}}`), 10, 64)
	f.Add([]byte(`{"name":"e","userId":"u","eventProperties":{"a":{"b":[1,2,3]},"c":null},"contactProperties":{}}`), 2, 8)
	f.Fuzz(func(t *testing.T, body []byte, maxProps, maxBytes int) {
		l := Limits{MaxProperties: 1 + max(maxProps, -maxProps-1)%100, MaxPropertyBytes: 1 + max(maxBytes, -maxBytes-1)%1024}
		within := func(name string, n int, sizes []int) {
			if n > l.MaxProperties {
				t.Fatalf("%s: %d members accepted; cap %d", name, n, l.MaxProperties)
			}
			for _, s := range sizes {
				if s > l.MaxPropertyBytes {
					t.Fatalf("%s: a value of %d bytes accepted; cap %d", name, s, l.MaxPropertyBytes)
				}
			}
		}
		if e, err := l.ParseEvent(body, true, ""); err == nil {
			n, sizes := 0, []int(nil)
			parseObjectMembers(e.EventProperties, func(size int) { n++; sizes = append(sizes, size) })
			within("eventProperties", n, sizes)
			within("contactProperties", len(e.ContactProperties), propSizes(e.ContactProperties))
		}
		if u, err := l.ParseContactUpsert(body, true); err == nil {
			within("properties", len(u.Properties), propSizes(u.Properties))
		}
	})
}

func propSizes(props []identity.Prop) []int {
	out := make([]int, len(props))
	for i, p := range props {
		out[i] = len(p.Value)
		if p.Value == nil {
			out[i] = len("null") // a null value is kept as nil
		}
	}
	return out
}

// parseObjectMembers calls fn with the size of each member value of an object.
func parseObjectMembers(obj []byte, fn func(size int)) {
	gjson.ParseBytes(obj).ForEach(func(_, v gjson.Result) bool {
		fn(len(v.Raw))
		return true
	})
}
