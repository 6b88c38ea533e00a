package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// ProxyBinary builds cmd/hogsend-proxy once for a test process, for the
// tests that run the real binary as an operator would. Keep one per package
// and call Remove from TestMain.
type ProxyBinary struct {
	// Version is stamped into the binary (-X main.version); empty = "test".
	Version string

	once sync.Once
	dir  string
	path string
	err  error
}

// Path builds the binary on first use and returns its path.
func (b *ProxyBinary) Path(t TB) string {
	t.Helper()
	b.once.Do(b.build)
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func (b *ProxyBinary) build() {
	version := b.Version
	if version == "" {
		version = "test"
	}
	if b.dir, b.err = os.MkdirTemp("", "hogsend-proxy-bin-"); b.err != nil {
		return
	}
	b.path = filepath.Join(b.dir, "hogsend-proxy")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+version, "-o", b.path,
		"github.com/hogsend/hogsend-proxy/cmd/hogsend-proxy")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.err = fmt.Errorf("build hogsend-proxy: %w\n%s", err, out)
	}
}

// Remove deletes the built binary.
func (b *ProxyBinary) Remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}
