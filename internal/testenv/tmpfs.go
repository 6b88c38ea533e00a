package testenv

import "os/exec"

// MountTmpfs mounts a tmpfs of size (as mount(8) reads it: "512k", "4m") on
// a fresh directory, unmounted when the test ends: a disk a test can fill for
// a real ENOSPC. Mounting needs root, which CI has.
func MountTmpfs(tb TB, size string) string {
	tb.Helper()
	dir := tb.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		Unavailable(tb, "a tmpfs to fill (mounting needs root): %v %s", err, out)
	}
	tb.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			tb.Fatalf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}
