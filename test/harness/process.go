package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
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
	done <-chan struct{}
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
	cmd := exec.Command(p.bin)
	cmd.Env = append(os.Environ(), sortedEnv(p.env, overrides)...) // later entries win in exec
	done, err := infra.StartLogged(cmd, p.name, p.logPath)
	if err != nil {
		return err
	}
	p.cmd, p.done = cmd, done

	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := infra.WaitReady(ctx, p.url()+"/readyz", done); err != nil {
		p.stopLocked(syscall.SIGKILL, 0)
		return fmt.Errorf("%s on %s not ready: %w\n%s", p.name, p.addr, err, infra.TailFile(p.logPath, 4000))
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
