package metafake

import (
	"encoding/json"
	"testing"
)

// FuzzValidateEvent: the fake's decoder never panics, and an event it
// accepts is a JSON object with a name and a 10-digit time.
func FuzzValidateEvent(f *testing.F) {
	ok, _ := json.Marshal(event(nil))
	f.Add(ok)
	f.Add([]byte(`"{\"event_name\":\"Lead\"}"`))
	f.Add([]byte(`{"event_name":"Lead","event_time":1767229140,"action_source":"other","user_data":{"em":null}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, gerr := checkEvent(raw, now)
		if gerr != nil {
			if gerr.Code == 0 || gerr.Error() == "" {
				t.Fatalf("empty graph error for %s", raw)
			}
			return
		}
		if ev.Name == "" || ev.Time < 1e9 || ev.Time >= 1e10 || ev.UserData == nil {
			t.Fatalf("accepted %s as %+v", raw, ev)
		}
	})
}
