package testenv

import "os"

// InCI reports whether the tests run in CI: any non-empty CI variable counts,
// as CI services set it to "true", "1" or their own name.
func InCI() bool { return os.Getenv("CI") != "" }

// Unavailable skips the test for a missing prerequisite, or fails it in CI,
// where `make test` installs every prerequisite and a skip would hide a gap.
func Unavailable(tb TB, format string, args ...any) {
	tb.Helper()
	if InCI() {
		tb.Fatalf("CI requires it: "+format, args...)
	}
	tb.Skipf(format+"; `make test` installs it", args...)
}
