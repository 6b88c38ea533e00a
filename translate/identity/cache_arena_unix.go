//go:build unix

package identity

import (
	"fmt"
	"syscall"
)

// mapArenas returns n bytes outside the Go heap, for the contact cache's
// arenas: the collector never scans nor counts them, and their pages take
// memory only once written.
func mapArenas(n int) ([]byte, error) {
	mem, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("map %d bytes: %w", n, err)
	}
	return mem, nil
}

// unmapArenas gives mapArenas' bytes back, once their cache is unreachable.
func unmapArenas(mem []byte) { _ = syscall.Munmap(mem) }
