package infra

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
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

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
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
