//go:build unix

package identity

import "syscall"

// mapArenas returns n bytes outside the Go heap, for the contact cache's
// arenas: the collector never scans nor counts them, and their pages take
// memory only once written. Where the kernel refuses, they come from the
// heap instead.
func mapArenas(n int) []byte {
	mem, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n)
	}
	return mem
}

// unmapArenas gives mapArenas' bytes back, once their cache is unreachable.
func unmapArenas(mem []byte) {
	_ = syscall.Munmap(mem) // a heap fallback is refused, and the collector frees it
}
