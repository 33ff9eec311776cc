package infra

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
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

// Port returns the port of a host:port address ("" if it has none).
func Port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// MergeEnv returns the entries of all maps in one new map; a later map's
// value wins.
func MergeEnv(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// StopProcess sends sig to the started cmd, waits up to grace for done to
// close (the caller closes it once cmd.Wait returns), then SIGKILLs it and
// waits for done.
func StopProcess(cmd *exec.Cmd, done <-chan struct{}, sig os.Signal, grace time.Duration) {
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return
	case <-time.After(grace):
	}
	_ = cmd.Process.Kill()
	<-done
}

// TailFile returns the end of the file at path (its last n bytes), for
// an error message.
func TailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	s := string(b)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return strings.TrimRight(s, "\n")
}

// StartLogged starts cmd as a child killed with this process, appending
// its output to logPath between two lines that name it and say when it
// started and how it ended. The channel closes once it has exited.
func StartLogged(cmd *exec.Cmd, name, logPath string) (<-chan struct{}, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	fmt.Fprintf(logf, "===== harness: starting %s at %s =====\n", name, time.Now().Format(time.RFC3339Nano))
	cmd.Stdout, cmd.Stderr = logf, logf
	KillWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		fmt.Fprintf(logf, "===== harness: %s exited: %s =====\n", name, cmd.ProcessState)
		logf.Close()
		close(done)
	}()
	return done, nil
}

// WaitReady polls url until it answers 200 OK, exited closes (the server
// process died) or ctx ends.
func WaitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	last := "no answer"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited (last answer from %s: %s)", url, last)
		case <-ctx.Done():
			return fmt.Errorf("no 200 from %s: %w (last: %s)", url, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
