package app

import "syscall"

// diskFreeBytes is the space left to unprivileged writers on the filesystem
// of dir, 0 when it cannot be read: the room the spool has before the disk,
// not HOGSEND_SPOOL_MAX_BYTES, refuses appends (docs/monitoring.md § Alerts).
func diskFreeBytes(dir string) float64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return float64(st.Bavail) * float64(st.Bsize)
}
