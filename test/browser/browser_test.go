package browser

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/infra"
)

// chromiumPath is Debian's chromium; the test never downloads a browser.
const chromiumPath = "/usr/bin/chromium"

// TestDashboard builds the admin dashboard, starts the whole stack serving it at /admin, and runs
// dashboard.mjs in headless Chromium: login, a new order on the board within 2 s, accept, assign,
// the agent's live location, screenshots (test/artifacts/dashboard.png and docs/dashboard.png).
func TestDashboard(t *testing.T) {
	root := repoRoot(t)
	needNode(t, filepath.Join(root, "test", "browser"), "playwright-core", "socket.io-client")
	needNode(t, filepath.Join(root, "admin"), "esbuild", "socket.io-client")
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = chromiumPath
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s not found: install Debian's chromium (`make deps` runs apt-get install chromium)", chromium)
	}

	adminDir := buildAdmin(t, root)
	s := startStack(t, adminDir)

	artifacts := filepath.Join(root, "test", "artifacts")
	shots := []string{filepath.Join(artifacts, "dashboard.png")}
	// docs/dashboard.png is committed for the README: written when missing or on request only,
	// so a test run does not leave a changed file in the work tree.
	readmeShot := filepath.Join(root, "docs", "dashboard.png")
	if _, err := os.Stat(readmeShot); err != nil || os.Getenv("UPDATE_SCREENSHOT") == "1" {
		shots = append(shots, readmeShot)
	}
	out, err := runNode(t, 4*time.Minute, filepath.Join(root, "test", "browser"), []string{"dashboard.mjs"}, map[string]string{
		"BASE_URL":       s.baseURL,
		"ADMIN_EMAIL":    s.adminEmail,
		"ADMIN_PASSWORD": s.adminPassword,
		"CHROMIUM":       chromium,
		"SCREENSHOTS":    strings.Join(shots, ","),
	}, s.control(t))
	if err != nil {
		var fails []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "FAIL") {
				fails = append(fails, l)
			}
		}
		t.Fatalf("dashboard.mjs: %v\n%s\n(full output above; failure screenshot in %s)", err, strings.Join(fails, "\n"), artifacts)
	}
	for _, f := range shots {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("screenshot %s: missing or empty (%v)", f, err)
		}
	}
}

// TestSimulator runs demo/simulator.mjs briefly against a fresh stack and checks from its summary
// that orders went all the way to delivered, with no error and every order:assigned received.
func TestSimulator(t *testing.T) {
	root := repoRoot(t)
	needNode(t, filepath.Join(root, "demo"), "socket.io-client")
	s := startStack(t, "")

	out, err := runNode(t, 3*time.Minute, filepath.Join(root, "demo"), []string{"simulator.mjs"}, map[string]string{
		"BASE_URL":       s.baseURL,
		"ADMIN_EMAIL":    s.adminEmail,
		"ADMIN_PASSWORD": s.adminPassword,
		"RATE":           "40",
		"AGENTS":         "2",
		"CUSTOMERS":      "2",
		"DURATION":       "6",
		"GPS_INTERVAL":   "1.5", // the gateway takes one position per second per order; keep a margin under load
		"PATH_STEPS":     "3",
		"DRAIN":          "60",
	}, nil)
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	var summary string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "summary: run") {
			summary = l
		}
	}
	if summary == "" {
		t.Fatalf("simulator printed no summary line")
	}
	var placed, delivered, failed, left, errs, missed int
	// summary: run <id> ran <s>s: placed N, delivered N, failed N, left in flight N, errors N, missed order:assigned N, ...
	_, scanErr := fmt.Sscanf(summary[strings.Index(summary, "placed"):],
		"placed %d, delivered %d, failed %d, left in flight %d, errors %d, missed order:assigned %d",
		&placed, &delivered, &failed, &left, &errs, &missed)
	if scanErr != nil {
		t.Fatalf("cannot read the summary %q: %v", summary, scanErr)
	}
	if placed < 2 || delivered != placed || failed != 0 || left != 0 || errs != 0 || missed != 0 {
		t.Fatalf("got placed %d, delivered %d, failed %d, left %d, errors %d, missed order:assigned %d; "+
			"want ≥2 placed, all delivered, nothing failed, left or missed", placed, delivered, failed, left, errs, missed)
	}
	if !strings.Contains(out, "in flight") {
		t.Errorf("no progress line in the output")
	}
}

// TestNodeUnit runs the Node unit tests of the dashboard state and the simulator (npm test).
func TestNodeUnit(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range []string{"admin", "demo"} {
		t.Run(dir, func(t *testing.T) {
			needNode(t, filepath.Join(root, dir))
			if _, err := runNode(t, time.Minute, filepath.Join(root, dir), []string{"--test", "test/"}, nil, nil); err != nil {
				t.Fatalf("node --test in %s: %v", dir, err)
			}
		})
	}
}

// ---- helpers ----------------------------------------------------------------------------------

// repoRoot is the directory holding go.work.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("go.work not found above %s", file)
		}
		dir = parent
	}
}

// needNode fails the test unless node is on PATH and dir/node_modules holds the named packages.
func needNode(t *testing.T, dir string, packages ...string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node not found on PATH: install Node.js 20+ and run `make deps`")
	}
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", p, "package.json")); err != nil {
			t.Fatalf("%s/node_modules lacks %s: run `make deps` (npm ci in %s)", dir, p, dir)
		}
	}
}

// buildAdmin bundles the dashboard into a temporary directory and returns it (ADMIN_DIR).
func buildAdmin(t *testing.T, root string) string {
	t.Helper()
	out := t.TempDir()
	if _, err := runNode(t, 2*time.Minute, filepath.Join(root, "admin"), []string{"build.mjs", "--outdir", out}, nil, nil); err != nil {
		t.Fatalf("build the admin dashboard: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "index.html")); err != nil {
		t.Fatalf("admin build left no index.html: %v", err)
	}
	return out
}

// runNode runs node with args in dir, logging each output line as it comes, and returns the
// combined output. A line "@@ <command>" is a request from the script: control (on the test's
// goroutine, so it may call t.Fatal) returns the one-line answer written to the script's stdin;
// a nil control answers "skip". The process is killed when the timeout passes or the test
// process dies.
func runNode(t *testing.T, timeout time.Duration, dir string, args []string, env map[string]string, control func(cmd string) string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.WaitDelay = 5 * time.Second
	infra.KillWithParent(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return "", err
	}

	var all strings.Builder // written by the reader only; read after it is done
	requests := make(chan string)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			t.Log(line)
			all.WriteString(line + "\n")
			if c, ok := strings.CutPrefix(line, "@@ "); ok {
				select {
				case requests <- c:
				case <-ctx.Done():
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	waited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		pw.Close()
		waited <- err
	}()
	for {
		select {
		case c := <-requests:
			reply := "skip"
			if control != nil {
				reply = control(c)
			}
			_, _ = io.WriteString(stdin, reply+"\n")
			continue
		case err = <-waited:
		}
		break
	}
	<-readerDone
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return all.String(), err
}
