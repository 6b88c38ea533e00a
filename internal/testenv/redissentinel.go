package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SentinelMaster is the master name the Sentinels of RedisSentinel monitor.
const SentinelMaster = "hogsend"

// RedisSentinelServers is a Redis master, one replica and three Sentinels
// with quorum 2 on loopback.
type RedisSentinelServers struct {
	Servers   []*Process // the master and its replica, in start order
	Sentinels []*Process
	// Passwords, "" for none: the master's and replica's (requirepass),
	// and the Sentinels' own.
	MasterPassword, SentinelPassword string

	tb  TB
	cli string
}

// RedisSentinel starts the master, its replica and three Sentinels, and
// waits until the Sentinels know the replica and each other (CKQUORUM), so
// that a failover can be authorised at once. A master is judged down after
// one second.
func RedisSentinel(tb TB) *RedisSentinelServers {
	tb.Helper()
	return RedisSentinelWithPasswords(tb, "", "")
}

// RedisSentinelWithPasswords is RedisSentinel with requirepass on the data
// servers (master) and on the Sentinels (sentinel), each unless "".
func RedisSentinelWithPasswords(tb TB, master, sentinel string) *RedisSentinelServers {
	tb.Helper()
	cli := requireBinary(tb, "redis-cli", "/usr/bin/redis-cli")
	s := &RedisSentinelServers{tb: tb, cli: cli, MasterPassword: master, SentinelPassword: sentinel}
	primary := s.newServer("redis")
	primary.Start(15 * time.Second)
	replica := s.newServer("redis-replica")
	replica.args = append(replica.args, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	replica.Start(15 * time.Second)
	s.Servers = []*Process{primary, replica}
	for i := range 3 {
		s.Sentinels = append(s.Sentinels, s.startSentinel("redis-sentinel-"+strconv.Itoa(i), primary.Port))
	}
	s.waitReady(primary, 60*time.Second)
	return s
}

// newServer configures a data server, with the master password if any
// (masterauth too, as either may become a replica).
func (s *RedisSentinelServers) newServer(name string) *Process {
	p := NewRedis(s.tb)
	p.Name = name
	if s.MasterPassword != "" {
		p.args = append(p.args, "--requirepass", s.MasterPassword, "--masterauth", s.MasterPassword)
	}
	return p
}

// startSentinel starts one Sentinel monitoring the master on masterPort.
// Sentinel rewrites its configuration file, so each has its own.
func (s *RedisSentinelServers) startSentinel(name string, masterPort int) *Process {
	tb := s.tb
	tb.Helper()
	bin := requireBinary(tb, "redis-server", "/usr/bin/redis-server")
	port := FreePort(tb)
	p := &Process{Name: name, Port: port, Addr: fmt.Sprintf("127.0.0.1:%d", port), Dir: tb.TempDir(), tb: tb, bin: bin}
	conf := strings.Join([]string{
		fmt.Sprintf("port %d", port), "bind 127.0.0.1", "protected-mode no", "daemonize no",
		"dir " + p.Dir,
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", SentinelMaster, masterPort),
		"sentinel down-after-milliseconds " + SentinelMaster + " 1000",
		"sentinel failover-timeout " + SentinelMaster + " 10000",
		"sentinel parallel-syncs " + SentinelMaster + " 1",
	}, "\n") + "\n"
	if s.MasterPassword != "" {
		conf += "sentinel auth-pass " + SentinelMaster + " " + s.MasterPassword + "\n"
	}
	if s.SentinelPassword != "" {
		// Sentinels talk to each other with the password they require.
		conf += "requirepass " + s.SentinelPassword + "\nsentinel sentinel-pass " + s.SentinelPassword + "\n"
	}
	path := filepath.Join(p.Dir, "sentinel.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		tb.Fatalf("write sentinel config: %v", err)
	}
	p.args = []string{path, "--sentinel"}
	tb.Cleanup(p.cleanup)
	p.Start(15 * time.Second)
	return p
}

// URL is the redis+sentinel:// URL naming every Sentinel, with the
// passwords.
func (s *RedisSentinelServers) URL() string {
	user := ""
	if s.MasterPassword != "" {
		user = ":" + s.MasterPassword + "@"
	}
	u := "redis+sentinel://" + user + addrList(s.Sentinels) + "/0?master=" + SentinelMaster
	if s.SentinelPassword != "" {
		u += "&sentinel_password=" + s.SentinelPassword
	}
	return u
}

// Master is the server every Sentinel names as master.
func (s *RedisSentinelServers) Master() *Process {
	s.tb.Helper()
	addr, err := s.masterAddr(s.Sentinels[0])
	if err != nil {
		s.tb.Fatal(err)
	}
	for _, p := range s.Servers {
		if p.Addr == addr {
			return p
		}
	}
	s.tb.Fatalf("sentinel names master %s, not one of ours", addr)
	return nil
}

func (s *RedisSentinelServers) masterAddr(sentinel *Process) (string, error) {
	out, err := redisCLI(s.cli, sentinel.Addr, s.SentinelPassword, "sentinel", "get-master-addr-by-name", SentinelMaster)
	if err != nil {
		return "", err
	}
	f := strings.Fields(out)
	if len(f) != 2 {
		return "", fmt.Errorf("sentinel %s: master address %q", sentinel.Addr, out)
	}
	return f[0] + ":" + f[1], nil
}

// waitReady waits until every Sentinel names master, counts one replica
// that is up and reaches quorum and failover authorisation.
func (s *RedisSentinelServers) waitReady(master *Process, timeout time.Duration) {
	s.tb.Helper()
	waitFor(s.tb, timeout, "redis sentinels ready", func() (bool, string) {
		for _, sn := range s.Sentinels {
			if addr, err := s.masterAddr(sn); err != nil || addr != master.Addr {
				return false, fmt.Sprintf("%s names %s (%v)", sn.Addr, addr, err)
			}
			q, err := redisCLI(s.cli, sn.Addr, s.SentinelPassword, "sentinel", "ckquorum", SentinelMaster)
			if err != nil || !strings.HasPrefix(q, "OK 3 usable") {
				return false, fmt.Sprintf("%s: %s %v", sn.Addr, q, err)
			}
			reps, err := redisCLI(s.cli, sn.Addr, s.SentinelPassword, "sentinel", "replicas", SentinelMaster)
			if err != nil || !strings.Contains(reps, "\nslave\n") {
				return false, fmt.Sprintf("%s replicas: %s %v", sn.Addr, reps, err)
			}
		}
		info, err := redisCLI(s.cli, master.Addr, s.MasterPassword, "info", "replication")
		if err != nil || !strings.Contains(info, "state=online") {
			return false, fmt.Sprintf("master replication: %s %v", info, err)
		}
		return true, ""
	})
}

// FailOver moves the master role to the replica and waits until every
// Sentinel names the new master and it answers as one. With kill the master
// is SIGKILLed and the Sentinels notice it down; without, SENTINEL FAILOVER
// asks for a switch, after which the old master rejoins as a replica. It
// returns the old master.
func (s *RedisSentinelServers) FailOver(kill bool) *Process {
	s.tb.Helper()
	old := s.Master()
	if kill {
		old.Kill()
	} else if _, err := redisCLI(s.cli, s.Sentinels[0].Addr, s.SentinelPassword, "sentinel", "failover", SentinelMaster); err != nil {
		s.tb.Fatal(err)
	}
	waitFor(s.tb, 60*time.Second, "sentinel failover from "+old.Addr, func() (bool, string) {
		var addr string
		for _, sn := range s.Sentinels {
			a, err := s.masterAddr(sn)
			if err != nil || a == old.Addr || (addr != "" && a != addr) {
				return false, fmt.Sprintf("%s names %s (%v)", sn.Addr, a, err)
			}
			addr = a
		}
		role, err := redisCLI(s.cli, addr, s.MasterPassword, "role")
		return err == nil && strings.HasPrefix(role, "master"), fmt.Sprintf("%s role %s %v", addr, role, err)
	})
	return old
}
