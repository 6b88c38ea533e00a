package conversions

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestTimeoutYAML(t *testing.T) {
	f := func(doc string, want time.Duration, wantErr string) {
		t.Helper()
		var c struct {
			Timeout Timeout `yaml:"timeout"`
		}
		err := yaml.Unmarshal([]byte(doc), &c)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("%q: err %v, want %q", doc, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if got := c.Timeout.Duration(); got != want {
			t.Fatalf("%q: %s, want %s", doc, got, want)
		}
	}
	f("timeout: 1500ms", 1500*time.Millisecond, "")
	f("{}", DefaultTimeout, "")
	f("timeout: 0s", DefaultTimeout, "")
	f("timeout: 30", 0, "not a duration")
	f("timeout: soon", 0, "not a duration")
	f("timeout: [1s]", 0, "must be a duration")
	if Timeout(-time.Second).Validate() == nil || Timeout(0).Validate() != nil {
		t.Fatal("Validate must refuse negative timeouts only")
	}
}
