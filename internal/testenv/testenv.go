// Package testenv starts real redis-server and clickhouse-server processes for
// tests, each on a free loopback port in its own temporary directory, and stops
// them by PID. Tests can also kill and restart them to prove fault handling.
//
// When a server binary is missing the test is skipped, except in CI (any
// non-empty CI variable), where a missing server is a failure.
package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// TB is the part of testing.TB the helpers use, so that the load benchmark
// binary can start servers too.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Process is a server started for a test.
type Process struct {
	Name string
	Addr string // host:port on loopback
	Port int
	Dir  string

	tb   TB
	args []string
	bin  string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
}

// requireBinary finds bin on PATH or in extra locations, skipping the test when it
// is missing outside CI.
func requireBinary(tb TB, bin string, extra ...string) string {
	tb.Helper()
	if p, err := exec.LookPath(bin); err == nil {
		return p
	}
	for _, p := range extra {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Unavailable(tb, "%s not found", bin)
	return ""
}

func (p *Process) start() error {
	if p.log == nil {
		f, err := os.OpenFile(p.Dir+"/"+p.Name+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open %s log: %w", p.Name, err)
		}
		p.log = f
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Dir = p.Dir
	cmd.Stdout = p.log
	cmd.Stderr = p.log
	// Own process group, so a kill reaches any child and Ctrl-C on the test
	// binary does not race our own shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	p.cmd = cmd
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(cmd, p.done)
	return nil
}

// waitPort waits until the port accepts connections or the process exits.
func (p *Process) waitPort(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start-up; see %s/%s.log:\n%s", p.Name, p.Dir, p.Name, p.tail())
		default:
		}
		c, err := net.DialTimeout("tcp", p.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not listen on %s within %s:\n%s", p.Name, p.Addr, timeout, p.tail())
}

func (p *Process) tail() string {
	b, _ := os.ReadFile(p.Dir + "/" + p.Name + ".log")
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// PID returns the running process id, or 0.
func (p *Process) PID() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Kill sends SIGKILL and waits for the process to exit.
func (p *Process) Kill() { p.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits for the process to exit (SIGKILL after 20 s).
func (p *Process) Stop() { p.signal(syscall.SIGTERM) }

func (p *Process) signal(sig syscall.Signal) {
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
}

// Restart starts the process again on the same port and directory.
func (p *Process) Restart(timeout time.Duration) {
	p.tb.Helper()
	if p.cmd != nil {
		p.Stop()
	}
	p.Start(timeout)
}

// Start starts a stopped (or never started) process and waits until its port
// accepts connections.
func (p *Process) Start(timeout time.Duration) {
	p.tb.Helper()
	if err := p.start(); err != nil {
		p.tb.Fatal(err)
	}
	if err := p.waitPort(timeout); err != nil {
		p.tb.Fatal(err)
	}
}

func (p *Process) cleanup() {
	if p.cmd != nil {
		p.Kill()
	}
	if p.log != nil {
		p.log.Close()
	}
}
