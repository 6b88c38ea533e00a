package clickhouse

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"github.com/ebitengine/purego"
)

// This file binds the few functions of libchdb's C API (chdb.h, the
// chdb_connect/chdb_query family) the Embedded backend needs, through purego
// (no cgo), as github.com/chdb-io/chdb-go v1.11.0's chdb-purego does.
//
// We do not import chdb-go itself: its package init dlopens libchdb and
// panics when the library is missing, which would crash every binary and
// test that merely links this package, including Server-only deployments.
// Here the library is loaded on OpenEmbedded and a missing library is an
// error.
//
// Two libchdb facts shape the Embedded backend:
//
//   - One session per process. libchdb is the ClickHouse server in-process
//     with global state (contexts, caches, background pools); chdb_connect
//     for a second path while a connection is open fails (returns NULL).
//     After chdb_close_conn a new connection may be opened, on the same or
//     another path.
//   - chdb_connect installs ClickHouse's signal handlers (SIGSEGV, SIGBUS,
//     SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS, SIGTSTP, SIGRTMIN). Over Go's
//     own handlers they break the runtime: a nil dereference becomes a
//     process crash instead of a panic, and preemption/profiling signals
//     are misrouted. We save every handler before chdb_connect and restore
//     those Go had installed afterwards, leaving ClickHouse only the signals
//     Go does not use. (chdb_set_signal_handlers_enabled(false) is no help:
//     it resets the handlers to the defaults, Go's included.)

// chdbLib is the loaded library's functions.
type chdbLib struct {
	path string

	connect       func(argc int32, argv **byte) unsafe.Pointer // chdb_connection *
	closeConn     func(conn unsafe.Pointer)                    // chdb_connection *
	query         func(conn unsafe.Pointer, query, format *byte) unsafe.Pointer
	destroyResult func(res unsafe.Pointer)
	resultBuffer  func(res unsafe.Pointer) *byte
	resultLength  func(res unsafe.Pointer) uintptr
	resultError   func(res unsafe.Pointer) *byte
}

// chdbLibPath is where libchdb.so is looked for: $CHDB_LIB_PATH, else the
// places chdb-go looks.
func chdbLibPath() string {
	if p := os.Getenv("CHDB_LIB_PATH"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/local/lib/libchdb.so", "./.deps/chdb/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "libchdb.so" // the dynamic loader's search path
}

// ErrNoLibchdb is returned by OpenEmbedded when libchdb cannot be loaded.
var ErrNoLibchdb = errors.New("libchdb not found (set CHDB_LIB_PATH; scripts/install-libchdb.sh installs it)")

// loadChdb dlopens libchdb (a no-op refcount bump after the first time) and
// binds its functions. The handle is never closed: unloading the ClickHouse
// engine from a live process is not safe.
func loadChdb() (*chdbLib, error) {
	path := chdbLibPath()
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("%w: dlopen %s: %v", ErrNoLibchdb, path, err)
	}
	l := &chdbLib{path: path}
	for _, f := range []struct {
		fn   any
		name string
	}{
		{&l.connect, "chdb_connect"},
		{&l.closeConn, "chdb_close_conn"},
		{&l.query, "chdb_query"},
		{&l.destroyResult, "chdb_destroy_query_result"},
		{&l.resultBuffer, "chdb_result_buffer"},
		{&l.resultLength, "chdb_result_length"},
		{&l.resultError, "chdb_result_error"},
	} {
		sym, err := purego.Dlsym(h, f.name)
		if err != nil {
			return nil, fmt.Errorf("libchdb %s: missing symbol %s: %w", path, f.name, err)
		}
		purego.RegisterFunc(f.fn, sym)
	}
	return l, nil
}

// chdbConn is an open connection: the chdb_connection * chdb_connect returned.
type chdbConn struct {
	lib *chdbLib
	ptr unsafe.Pointer
}

// open connects with the given clickhouse-local arguments (e.g.
// "--path=/data/clickhouse"), protecting Go's signal handlers.
func (l *chdbLib) open(args ...string) (*chdbConn, error) {
	argv := append([]string{"clickhouse"}, args...)
	cargs := make([]*byte, len(argv))
	for i, a := range argv {
		cargs[i] = cString(a)
	}
	saved := saveSignalHandlers()
	ptr := l.connect(int32(len(cargs)), &cargs[0])
	restoreSignalHandlers(saved)
	runtime.KeepAlive(cargs)
	if ptr == nil || *(*unsafe.Pointer)(ptr) == nil {
		return nil, errors.New("chdb_connect failed (libchdb allows one open session per process)")
	}
	return &chdbConn{lib: l, ptr: ptr}, nil
}

// query runs sql (which may carry inline INSERT data) and returns the output
// in format. The caller serialises calls.
func (c *chdbConn) query(sql []byte, format string) ([]byte, error) {
	if c.ptr == nil {
		return nil, errors.New("chdb connection is closed")
	}
	q := make([]byte, len(sql)+1) // NUL-terminated copy
	copy(q, sql)
	f := cString(format)
	res := c.lib.query(*(*unsafe.Pointer)(c.ptr), &q[0], f)
	runtime.KeepAlive(q)
	runtime.KeepAlive(f)
	if res == nil {
		return nil, nil
	}
	defer c.lib.destroyResult(res)
	if msg := goString(c.lib.resultError(res)); msg != "" {
		return nil, errors.New(trimChdbError(msg))
	}
	n := c.lib.resultLength(res)
	buf := c.lib.resultBuffer(res)
	if buf == nil || n == 0 {
		return nil, nil
	}
	return append([]byte(nil), unsafe.Slice(buf, n)...), nil
}

func (c *chdbConn) close() {
	if c.ptr != nil {
		c.lib.closeConn(c.ptr)
		c.ptr = nil
	}
}

func cString(s string) *byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return &b[0]
}

func goString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

// trimChdbError keeps the first line of a ClickHouse exception, which holds
// the code and message; the rest is context that floods logs.
func trimChdbError(msg string) string {
	for i := 0; i < len(msg); i++ {
		if msg[i] == '\n' {
			if i > 0 {
				return msg[:i]
			}
			break
		}
	}
	return msg
}
