//go:build !unix

package spool

// dirLock is a no-op where flock is unavailable; running two processes on one
// spool directory there is the operator's responsibility.
type dirLock struct{}

func lockDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) release() error { return nil }
