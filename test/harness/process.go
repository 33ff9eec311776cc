package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/friendspizzahut/platform/test/infra"
)

// process is one service child process on a fixed port that survives its
// restarts, so that URLs handed out stay valid.
type process struct {
	name    string // "orderapi", "g1", ...
	bin     string
	addr    string // 127.0.0.1:port
	env     map[string]string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *process) url() string { return "http://" + p.addr }

// start runs the binary with p.env plus overrides and waits until /readyz
// answers 200. Output is appended to p.logPath.
func (p *process) start(overrides map[string]string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s is already running", p.name)
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s log: %w", p.name, err)
	}
	fmt.Fprintf(logf, "===== harness: starting %s at %s =====\n", p.name, time.Now().Format(time.RFC3339Nano))

	env := os.Environ()
	for _, kv := range sortedEnv(p.env, overrides) {
		env = append(env, kv) // later entries win in exec
	}
	cmd := exec.Command(p.bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	infra.KillWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		fmt.Fprintf(logf, "===== harness: %s exited: %s =====\n", p.name, cmd.ProcessState)
		logf.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done

	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := infra.WaitReady(ctx, p.url()+"/readyz", done); err != nil {
		p.stopLocked(syscall.SIGKILL, 0)
		return fmt.Errorf("%s on %s not ready: %w\n%s", p.name, p.addr, err, tailFile(p.logPath, 4000))
	}
	return nil
}

// readyTimeout is generous: under `go test -race ./...` on two shared
// cores a cold start of a service takes seconds.
const readyTimeout = 60 * time.Second

// stop signals the process and waits for it; after grace it is killed.
// Stopping a stopped process does nothing.
func (p *process) stop(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked(sig, grace)
}

func (p *process) stopLocked(sig syscall.Signal, grace time.Duration) {
	if p.cmd == nil {
		return
	}
	infra.StopProcess(p.cmd, p.done, sig, grace)
	p.cmd, p.done = nil, nil
}

func (p *process) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func sortedEnv(maps ...map[string]string) []string {
	merged := infra.MergeEnv(maps...)
	out := make([]string, 0, len(merged))
	for k, v := range merged {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func tailFile(path string, n int) string {
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
