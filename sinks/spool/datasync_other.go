//go:build !linux

package spool

import "os"

func syncFileData(f *os.File) error { return f.Sync() }
