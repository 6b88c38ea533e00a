package identity

import "testing"

func TestVersionAtLeast7(t *testing.T) {
	f := func(v string, want bool) {
		t.Helper()
		if got := versionAtLeast7(v); got != want {
			t.Errorf("versionAtLeast7(%q) = %v, want %v", v, got, want)
		}
	}
	f("7.0.15", true)
	f("7.4.2", true)
	f("10.0.0", true)
	f("6.2.14", false)
	f("5.0.7", false)
	f("", false)
	f("x.y", false)
}
