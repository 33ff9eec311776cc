package infra

import (
	"fmt"
	"net"
	"os/exec"
	"syscall"
	"time"
)

// FreeAddr returns a loopback host:port that was free a moment ago. The port
// can be taken again before the caller binds it; callers that start servers
// on it retry on a bind failure.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// stopProcess sends SIGTERM, waits up to grace for done to close, then
// SIGKILLs and waits.
func stopProcess(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return
	case <-time.After(grace):
	}
	_ = cmd.Process.Kill()
	<-done
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
