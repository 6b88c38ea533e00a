package testenv

import "syscall"

// Pause stops the process with SIGSTOP: it keeps its connections open but
// answers nothing, as a server stalled on a slow disk or a long GC would.
func (p *Process) Pause() { p.sendToGroup(syscall.SIGSTOP) }

// Resume continues a paused process with SIGCONT.
func (p *Process) Resume() { p.sendToGroup(syscall.SIGCONT) }

func (p *Process) sendToGroup(sig syscall.Signal) {
	p.tb.Helper()
	if p.cmd == nil {
		p.tb.Fatalf("%s: %v to a process that is not running", p.Name, sig)
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		p.tb.Fatalf("%s: send %v: %v", p.Name, sig, err)
	}
}
