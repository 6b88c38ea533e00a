package testenv

import "fmt"

// newProcess is a server named name, run from bin, on a free loopback port
// with a fresh temporary directory; nothing runs until Start.
func newProcess(tb TB, name, bin string) *Process {
	tb.Helper()
	port := FreePort(tb)
	return &Process{
		Name: name, Port: port, Addr: fmt.Sprintf("127.0.0.1:%d", port),
		Dir: tb.TempDir(), tb: tb, bin: bin,
	}
}
