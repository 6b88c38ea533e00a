//go:build linux && (amd64 || arm64)

package clickhouse

import (
	"syscall"
	"unsafe"
)

// kernelSigaction is struct sigaction as rt_sigaction(2) takes it on Linux
// amd64 and arm64 (handler, flags, restorer, 64-bit mask).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const maxSignal = 64

type signalHandlers [maxSignal + 1]struct {
	sa kernelSigaction
	ok bool
}

func saveSignalHandlers() *signalHandlers {
	var h signalHandlers
	for sig := 1; sig <= maxSignal; sig++ {
		_, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), 0,
			uintptr(unsafe.Pointer(&h[sig].sa)), 8, 0, 0)
		h[sig].ok = errno == 0
	}
	return &h
}

// restoreSignalHandlers puts back every handler that was installed (not
// SIG_DFL or SIG_IGN) when h was saved, i.e. Go's.
func restoreSignalHandlers(h *signalHandlers) {
	for sig := 1; sig <= maxSignal; sig++ {
		if !h[sig].ok || h[sig].sa.handler <= 1 {
			continue
		}
		var cur kernelSigaction
		_, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&cur)), 8, 0, 0)
		if errno != 0 || cur == h[sig].sa {
			continue
		}
		syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&h[sig].sa)), 0, 8, 0, 0)
	}
}
