package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat; it
// is 100 on every Linux we run on.
const clockTicks = 100

// processCPU reads the user+system CPU a process has used so far.
func processCPU(pid int) (time.Duration, error) {
	return statCPU(fmt.Sprintf("/proc/%d/stat", pid), 2)
}

// generatorCPU is this process's CPU plus that of its children already
// waited for: the Go generator runs in this process, wrk in a child that has
// exited by the time a run is reported.
func generatorCPU() (time.Duration, error) {
	return statCPU("/proc/self/stat", 4)
}

// statCPU sums the first n of utime, stime, cutime and cstime in a
// /proc/<pid>/stat file.
func statCPU(path string, n int) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// Fields after the command (which may contain spaces) start after ')'.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 11+n {
		return 0, fmt.Errorf("%s: %d fields", path, len(fields))
	}
	var total int64
	for _, f := range fields[11 : 11+n] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		total += v
	}
	return time.Duration(total) * time.Second / clockTicks, nil
}

// machineCPU reads the busy time of all CPUs so far (user, nice, system,
// irq and softirq in the cpu line of /proc/stat): the three servers, the load
// generator, and kernel threads such as the file system's journal. steal is
// the time the hypervisor ran something else while this machine wanted the
// CPU: when it is not near zero, the run was slowed by a neighbour.
func machineCPU() (busy, steal time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var ticks [8]int64
	for i := range ticks {
		if ticks[i], err = strconv.ParseInt(fields[1+i], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }
	return tick(ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]), tick(ticks[7]), nil
}

// cpuMeter measures the CPU of named processes, of this process (the load
// generator) and of the whole machine over an interval.
type cpuMeter struct {
	names               []string
	pids                []int
	start               []time.Duration
	self, system, steal time.Duration
}

func newCPUMeter(names []string, pids []int) *cpuMeter {
	m := &cpuMeter{names: names, pids: pids, start: make([]time.Duration, len(pids))}
	for i, pid := range pids {
		m.start[i], _ = processCPU(pid)
	}
	m.self, _ = generatorCPU()
	m.system, m.steal, _ = machineCPU()
	return m
}

// used is the CPU the named processes and this process with its waited
// children (the load generator) spent since the meter started.
func (m *cpuMeter) used() time.Duration {
	var total time.Duration
	for i, pid := range m.pids {
		if end, err := processCPU(pid); err == nil {
			total += end - m.start[i]
		}
	}
	if end, err := generatorCPU(); err == nil {
		total += end - m.self
	}
	return total
}

// report prints each process's CPU per event and its share of the wall
// time (a share of one core; the machine has two).
func (m *cpuMeter) report(events int64, wall time.Duration) string {
	var parts []string
	for i, pid := range m.pids {
		end, err := processCPU(pid)
		if err != nil {
			continue
		}
		used := end - m.start[i]
		parts = append(parts, fmt.Sprintf("%s %.2f µs (%.0f%%)", m.names[i],
			float64(used.Microseconds())/float64(events), 100*used.Seconds()/wall.Seconds()))
	}
	share := func(used time.Duration) string {
		return fmt.Sprintf("%.2f µs (%.0f%%)", float64(used.Nanoseconds())/1000/float64(events), 100*used.Seconds()/wall.Seconds())
	}
	if end, err := generatorCPU(); err == nil {
		parts = append(parts, "load generator "+share(end-m.self))
	}
	if end, steal, err := machineCPU(); err == nil {
		// Other work is the machine's busy time no measured process spent:
		// neighbours on a shared machine, and the kernel's own threads.
		other := end - m.system - m.used()
		parts = append(parts, "whole machine "+share(end-m.system), fmt.Sprintf("other work %.0f%%", 100*other.Seconds()/wall.Seconds()),
			fmt.Sprintf("hypervisor steal %.0f%%", 100*(steal-m.steal).Seconds()/wall.Seconds()))
	}
	return fmt.Sprintf("  cpu per event:    %s\n", strings.Join(parts, ", "))
}

// perEvent is the CPU per event since the meter started, in µs, of each
// named process, of the "load generator" and of the "whole machine", by
// name; what cannot be read (a process that has exited) is left out.
func (m *cpuMeter) perEvent(events int64) map[string]float64 {
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(max(events, 1)) }
	out := make(map[string]float64, len(m.pids)+2)
	for i, pid := range m.pids {
		if end, err := processCPU(pid); err == nil {
			out[m.names[i]] = us(end - m.start[i])
		}
	}
	if end, err := generatorCPU(); err == nil {
		out["load generator"] = us(end - m.self)
	}
	if end, _, err := machineCPU(); err == nil {
		out["whole machine"] = us(end - m.system)
	}
	return out
}
