package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/infra"
	"github.com/friendspizzahut/platform/test/jsclient"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDevstack runs run() with embedded databases and free ports and
// returns the front URL and a channel with run's result.
func startDevstack(t *testing.T, env map[string]string) (front string, cancel context.CancelFunc, result <-chan error, stdout *syncBuffer) {
	t.Helper()
	bins, err := harness.BuildBinaries()
	if err != nil {
		t.Fatal(err)
	}
	addr, err := infra.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	base := map[string]string{
		"PORT":          port,
		"ORDERAPI_PORT": "0",
		"GATEWAY_PORTS": "0,0",
		"BIN_DIR":       filepath.Dir(bins.OrderAPI),
		"DATA_DIR":      t.TempDir(),
		"LOG_LEVEL":     "warn",
	}
	for k, v := range env {
		base[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout = &syncBuffer{}
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"devstack"}, func(k string) string { return base[k] }, stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			t.Logf("devstack stdout:\n%s\ndevstack stderr:\n%s", stdout.String(), stderr.String())
		}
	})
	return "http://127.0.0.1:" + port, cancel, done, stdout
}

func waitHealth(t *testing.T, url string, result <-chan error) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-result:
			t.Fatalf("devstack stopped before serving: %v", err)
		default:
		}
		if resp, err := http.Get(url + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no 200 from %s/health within 3 minutes", url)
}

func TestRunServesAndStopsCleanly(t *testing.T) {
	front, cancel, result, stdout := startDevstack(t, nil)
	waitHealth(t, front, result)
	for _, want := range []string{"front door", "gateway g2", "embedded FerretDB", "embedded miniredis", "admin@friendspizzahut.test / Admin12345"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("startup table lacks %q:\n%s", want, stdout.String())
		}
	}

	d := jsclient.Start(t)
	for _, tr := range []jsclient.Transport{jsclient.WebSocketOnly, jsclient.PollingOnly} {
		s := d.Connect(t, front, jsclient.Options{Transports: tr})
		s.WaitConnect(t)
		s.Disconnect()
	}
	// Connection state recovery works on the embedded miniredis too: a
	// client whose transport is cut comes back with its session.
	s := d.Connect(t, front, jsclient.Options{Transports: jsclient.WebSocketOnly})
	first := s.WaitConnect(t)
	s.CutTransport(500 * time.Millisecond)
	s.WaitDisconnect(t)
	if again := s.WaitConnect(t); !again.Recovered || again.SID != first.SID {
		t.Errorf("after a cut transport: %+v, want recovered with sid %s", again, first.SID)
	}
	s.Disconnect()

	cancel()
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("run after cancel: %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of cancel")
	}
}

func TestRunStopsWhenAChildDies(t *testing.T) {
	front, _, result, _ := startDevstack(t, nil)
	waitHealth(t, front, result)

	pids := childPIDs(t, "gateway")
	if len(pids) != 2 {
		t.Fatalf("found %d gateway children, want 2", len(pids))
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-result:
		if err == nil || !strings.Contains(err.Error(), "exited unexpectedly") {
			t.Fatalf("run returned %v, want an \"exited unexpectedly\" error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run kept going after a gateway died")
	}
	for _, pid := range childPIDs(t, "") {
		t.Errorf("child %d still running after run returned", pid)
	}
}

func TestRunFailsClearly(t *testing.T) {
	t.Run("missing binaries", func(t *testing.T) {
		err := run(context.Background(), nil, mapEnv(map[string]string{"BIN_DIR": t.TempDir(), "PORT": "0"}), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "make build") {
			t.Fatalf("got %v, want a hint to run make build", err)
		}
	})
	t.Run("bad config", func(t *testing.T) {
		err := run(context.Background(), nil, mapEnv(map[string]string{"PORT": "x", "GATEWAY_PORTS": "1,nope"}), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "PORT") || !strings.Contains(err.Error(), "GATEWAY_PORTS") {
			t.Fatalf("got %v, want errors naming PORT and GATEWAY_PORTS", err)
		}
	})
	t.Run("service never ready", func(t *testing.T) {
		dir := t.TempDir()
		for _, name := range []string{"orderapi", "gateway"} {
			script := "#!/bin/sh\necho " + name + " refuses to start >&2\nexit 3\n"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		out := &syncBuffer{}
		err := run(context.Background(), nil, mapEnv(map[string]string{"BIN_DIR": dir, "PORT": "0", "ORDERAPI_PORT": "0", "DATA_DIR": t.TempDir()}), out, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "orderapi did not become ready") {
			t.Fatalf("got %v, want orderapi not ready", err)
		}
		if !strings.Contains(out.String(), "orderapi refuses to start") {
			t.Fatalf("child output not shown: %q", out.String())
		}
	})
}

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// childPIDs lists live child processes of this test process, optionally
// only those whose command name is comm.
func childPIDs(t *testing.T, comm string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < 0 {
			continue
		}
		fields := strings.Fields(s[close+1:])
		if len(fields) < 2 || fields[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		if ppid != os.Getpid() || (comm != "" && s[open+1:close] != comm) {
			continue
		}
		out = append(out, pid)
	}
	return out
}
