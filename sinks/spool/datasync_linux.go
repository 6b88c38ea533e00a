//go:build linux

package spool

import (
	"os"
	"syscall"
)

// syncFileData flushes a segment's data and the metadata needed to read it
// back (its size), but not timestamps: fdatasync(2), cheaper than fsync(2).
func syncFileData(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return serr
}
