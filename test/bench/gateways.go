package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/friendspizzahut/platform/test/infra"
)

// Names of the two sides, as the table and the JSON show them.
const (
	SideNode = "node"
	SideOurs = "ours"
)

// gateway is one gateway process under test with its own redis-server.
type gateway struct {
	side      string
	addr      string // 127.0.0.1:port
	redis     *infra.Redis
	cmd       *exec.Cmd
	done      <-chan struct{}
	logPath   string
	ownsRedis bool // stop stops the Redis too
}

// Shared secrets of the bench stack (loopback only).
const (
	benchInternalToken = "bench-internal-token-0123456789abcdef"
	benchJWTSecret     = "bench-jwt-secret-0123456789abcdef0123"
)

// startGateway starts side's gateway on a free port, with a fresh
// redis-server, configured like test/harness configures ours. bin is our
// gateway binary; the Node one runs test/bench/node/server.mjs. extra adds
// to the environment.
func startGateway(side, bin, nodeDir, workDir, directoryURL string, extra map[string]string) (*gateway, error) {
	rdir := filepath.Join(workDir, side+"-redis")
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		return nil, err
	}
	rd, err := infra.RunRedis(rdir, "")
	if err != nil {
		return nil, err
	}
	g, err := startGatewayOn(rd, side, "bench-"+side, bin, nodeDir, workDir, directoryURL, extra)
	if err != nil {
		rd.Stop()
		return nil, err
	}
	g.ownsRedis = true
	return g, nil
}

// startGatewayOn starts a gateway replica named id on an existing Redis.
func startGatewayOn(rd *infra.Redis, side, id, bin, nodeDir, workDir, directoryURL string, extra map[string]string) (*gateway, error) {
	g := &gateway{side: side, redis: rd, logPath: filepath.Join(workDir, id+".log")}
	env := map[string]string{
		"REDIS_URL":      rd.URL(),
		"ORDERAPI_URL":   directoryURL,
		"INTERNAL_TOKEN": benchInternalToken,
		"JWT_SECRET":     benchJWTSecret,
		"GATEWAY_ID":     id,
		"LOG_FORMAT":     "text",
		"LOG_LEVEL":      "warn",
		// The bench's admins register by claim, as the Node reference
		// accepts: let ours accept it too (admins are not tokenless by
		// default since the identity work).
		"GATEWAY_TOKENLESS_ROLES": "customer,delivery,admin",
	}
	for k, v := range extra {
		env[k] = v
	}
	var argv []string
	switch side {
	case SideOurs:
		argv = []string{bin}
	case SideNode:
		argv = []string{"node", filepath.Join(nodeDir, "server.mjs")}
	default:
		return nil, fmt.Errorf("unknown side %q", side)
	}
	for attempt := 1; ; attempt++ {
		addr, err := infra.FreeAddr()
		if err == nil {
			g.addr = addr
			env["PORT"] = infra.Port(addr)
			err = g.start(argv, env)
		}
		if err == nil {
			return g, nil
		}
		if attempt == 3 || !strings.Contains(err.Error(), "in use") {
			return nil, err
		}
	}
}

func (g *gateway) start(argv []string, env map[string]string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	done, err := infra.StartLogged(cmd, g.side+" gateway", g.logPath)
	if err != nil {
		return err
	}
	g.cmd, g.done = cmd, done
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := infra.WaitReady(ctx, "http://"+g.addr+"/readyz", done); err != nil {
		infra.StopProcess(cmd, done, syscall.SIGKILL, 0)
		return fmt.Errorf("%s gateway not ready: %w\n%s", g.side, err, infra.TailFile(g.logPath, 3000))
	}
	return nil
}

// stop ends the gateway (and its Redis if it started it).
func (g *gateway) stop() {
	if g.cmd != nil {
		infra.StopProcess(g.cmd, g.done, syscall.SIGTERM, 10*time.Second)
		g.cmd = nil
	}
	if g.ownsRedis {
		g.redis.Stop()
	}
}

func (g *gateway) pid() int { return g.cmd.Process.Pid }

// exited reports whether the gateway process has ended.
func (g *gateway) exited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat; it
// is 100 on every Linux the project runs on (reading sysconf needs cgo).
const clockTicks = 100

// cpuTime returns utime+stime of pid (all its threads).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc/%d/stat times", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// rssBytes returns VmRSS of pid.
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// pin sets the CPU affinity of every thread of pid (taskset -a -p).
func pin(pid int, cpus string) error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset -a -p -c %s %d: %w: %s", cpus, pid, err, strings.TrimSpace(string(out)))
	}
	return nil
}
