package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
)

// A cursor file, Dir/<consumer>.cursor, holds the position after the last
// entry the consumer has durably processed:
//
//	magic "HGSC" | uint64 segment | int64 offset | uint32 CRC-32C of the preceding 20 bytes
//
// It is replaced atomically (temp file, fsync, rename, fsync dir), so after a
// crash it holds either the old or the new cursor, never a mix.

const (
	cursorSuffix = ".cursor"
	cursorSize   = 24
)

var cursorMagic = [4]byte{'H', 'G', 'S', 'C'}

func cursorPath(dir, name string) string {
	return filepath.Join(dir, name+cursorSuffix)
}

func encodeCursor(p Position) []byte {
	b := make([]byte, 0, cursorSize)
	b = append(b, cursorMagic[:]...)
	b = binary.LittleEndian.AppendUint64(b, p.Segment)
	b = binary.LittleEndian.AppendUint64(b, uint64(p.Offset))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeCursor(b []byte) (Position, error) {
	if len(b) != cursorSize {
		return Position{}, fmt.Errorf("size %d, want %d", len(b), cursorSize)
	}
	if [4]byte(b[:4]) != cursorMagic {
		return Position{}, fmt.Errorf("bad magic %x", b[:4])
	}
	if crc32.Checksum(b[:20], castagnoli) != binary.LittleEndian.Uint32(b[20:]) {
		return Position{}, errors.New("checksum mismatch")
	}
	p := Position{
		Segment: binary.LittleEndian.Uint64(b[4:]),
		Offset:  int64(binary.LittleEndian.Uint64(b[12:])),
	}
	if p.Offset < 0 {
		return Position{}, fmt.Errorf("negative offset %d", p.Offset)
	}
	return p, nil
}

// loadCursor reads the cursor of consumer name. A missing file means the
// consumer has consumed nothing yet (the zero Position). An unreadable or
// corrupt file is reported as an error so the caller can decide; Open
// falls back to the start of the log, preferring duplicates over loss.
func loadCursor(dir, name string) (Position, error) {
	b, err := os.ReadFile(cursorPath(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return Position{}, nil
	}
	if err != nil {
		return Position{}, fmt.Errorf("spool: read cursor %q: %w", name, err)
	}
	p, err := decodeCursor(b)
	if err != nil {
		return Position{}, fmt.Errorf("spool: decode cursor %q: %w", name, err)
	}
	return p, nil
}

// storeCursor durably replaces the cursor of consumer name with p.
func storeCursor(dir, name string, p Position) error {
	final := cursorPath(dir, name)
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create %q: %w", tmp, err)
	}
	_, err = f.Write(encodeCursor(p))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %q: %w", tmp, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("rename %q: %w", tmp, err)
	}
	return syncDir(dir)
}
