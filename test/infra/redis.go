package infra

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Redis is a redis-server child process listening on 127.0.0.1. It keeps
// nothing on disk (no RDB, no AOF), so a restart starts empty.
type Redis struct {
	addr string
	dir  string
	args []string // extra redis-server arguments (e.g. --replicaof)

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartRedis starts redis-server on a free port, waits until it answers PING
// and stops it when the test ends. It fails the test if redis-server is not
// installed (run `make deps`).
func StartRedis(tb testing.TB) *Redis {
	tb.Helper()
	r, err := RunRedis(tb.TempDir(), "")
	if err != nil {
		tb.Fatalf("start redis: %v", err)
	}
	tb.Cleanup(r.Stop)
	return r
}

// RunRedis starts redis-server with its working files in dir, listening on
// addr ("" picks a free loopback port). The caller must call Stop.
func RunRedis(dir, addr string, args ...string) (*Redis, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, errors.New("redis-server not found on PATH: run `make deps` (installs the Debian redis-server package)")
	}
	// A free port can be taken between our probe and redis' bind; retry
	// with a new port a few times when we picked it ourselves.
	attempts := 1
	if addr == "" {
		attempts = 5
	}
	var err error
	for range attempts {
		a := addr
		if a == "" {
			if a, err = FreeAddr(); err != nil {
				return nil, err
			}
		}
		r := &Redis{addr: a, dir: dir, args: args}
		if err = r.start(); err == nil {
			return r, nil
		}
	}
	return nil, err
}

// URL returns the redis:// URL of database 0.
func (r *Redis) URL() string { return "redis://" + r.addr + "/0" }

// Addr returns host:port.
func (r *Redis) Addr() string { return r.addr }

// Restart stops the server and starts it again on the same port, empty.
// Clients see their connections drop and must reconnect.
func (r *Redis) Restart(tb testing.TB) {
	tb.Helper()
	r.Stop()
	if err := r.start(); err != nil {
		tb.Fatalf("restart redis on %s: %v", r.addr, err)
	}
}

// PID returns the server's process id, 0 while it is stopped.
func (r *Redis) PID() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

// Stop terminates the server (SIGTERM, then SIGKILL after 5s) and waits for
// it to exit. Stopping a stopped server does nothing.
func (r *Redis) Stop() { r.signal(syscall.SIGTERM) }

// Kill SIGKILLs the server, as a crash would, and waits for it to exit.
func (r *Redis) Kill() { r.signal(syscall.SIGKILL) }

func (r *Redis) signal(sig syscall.Signal) {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.cmd = nil
	r.mu.Unlock()
	if cmd != nil {
		StopProcess(cmd, done, sig, 5*time.Second)
	}
}

func (r *Redis) start() error {
	host, port, err := net.SplitHostPort(r.addr)
	if err != nil {
		return fmt.Errorf("redis addr %q: %w", r.addr, err)
	}
	logPath := filepath.Join(r.dir, "redis-"+port+".log")
	cmd := exec.Command("redis-server",
		"--bind", host, "--port", port,
		"--save", "", "--appendonly", "no",
		"--dir", r.dir, "--logfile", logPath,
		"--daemonize", "no", "--protected-mode", "no")
	cmd.Args = append(cmd.Args, r.args...)
	KillWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := waitPing(ctx, r.addr, done); err != nil {
		StopProcess(cmd, done, syscall.SIGTERM, time.Second)
		return fmt.Errorf("redis-server on %s: %w\n%s", r.addr, err, TailFile(logPath, 2000))
	}
	r.mu.Lock()
	r.cmd, r.done = cmd, done
	r.mu.Unlock()
	return nil
}

// waitPing polls until the server at addr answers PING with PONG, the
// process exits, or ctx ends.
func waitPing(ctx context.Context, addr string, exited <-chan struct{}) error {
	var last error
	for {
		if last = ping(addr); last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited before answering PING (%v)", last)
		case <-ctx.Done():
			return fmt.Errorf("no PONG: %w (last error: %v)", ctx.Err(), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}
