package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Binaries are the service executables a Stack runs.
type Binaries struct {
	OrderAPI string
	Gateway  string
}

// BuildBinaries builds orderapi and gateway (once per test process; later
// calls return the first result) and returns their paths.
func BuildBinaries() (Binaries, error) { return binaries() }

// binaries builds the two services once per test process: every Stack of
// a test binary shares the build (a package-level once, the only state
// this package keeps).
var binaries = sync.OnceValues(build)

// RepoRoot returns the repository root (the directory holding go.work).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// build compiles orderapi and gateway into os.TempDir()/fph-bin/<pid>/
// with one go build (shared work, warm cache), after removing directories
// left by test processes that are gone.
func build() (Binaries, error) {
	root := filepath.Join(os.TempDir(), "fph-bin")
	sweepDeadBuilds(root)
	dir := filepath.Join(root, strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, fmt.Errorf("binary dir: %w", err)
	}
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./orderapi/cmd/orderapi", "./gateway/cmd/gateway")
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return Binaries{}, fmt.Errorf("go build the services: %w\n%s", err, out)
	}
	return Binaries{OrderAPI: filepath.Join(dir, "orderapi"), Gateway: filepath.Join(dir, "gateway")}, nil
}

func sweepDeadBuilds(root string) {
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(root, e.Name()))
	}
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || strings.Contains(err.Error(), "not permitted")
}
