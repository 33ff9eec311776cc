// Package bench is `make bench`: one Go load generator that speaks
// Engine.IO v4 / Socket.IO v5 itself drives our gateway and a Node
// socket.io 4.8 reference gateway with the same routing (test/bench/node),
// each with its own redis-server, through the same scenarios, and reports
// them side by side (table and JSON).
//
// The gateways are black boxes: ours is built from ./gateway/cmd/gateway
// and configured through its environment as test/harness does, so the
// bench measures whatever engine the tree holds. orderapi is not run: a
// small HTTP server here answers its internal lookup API (directory.go).
// Events are published on each gateway's Redis as orderapi would
// (shared/bus, shared/event envelopes).
//
// Every scenario counts failed connections and lost, duplicated and
// misrouted deliveries; Run never judges time, the caller does.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/friendspizzahut/platform/test/harness"
)

// Config sizes a run. Zero values mean the defaults (the sizes of `make
// bench`, which finish within 10 minutes on two cores).
type Config struct {
	Sockets     int // sockets per gateway, default 10000
	IdleMax     int // idle memory also measured at this many sockets, default 19500; -1 skips
	Admins      int // admin sockets, default 2 (each gets every order event)
	Agents      int // agent sockets, default 1000 (capped at Sockets/10); one order each
	Concurrency int // handshakes in flight during a connect ramp, default 100

	SlowBroadcasts  int           // broadcasts at 1/s, default 5
	SteadyRate      float64       // broadcasts/s of the steady scenario (issue 9's 10 k × 5/s row), default 5
	SteadyFor       time.Duration // default 6s
	SatRate         float64       // broadcasts/s offered at saturation, above what either gateway delivers, default 100
	SatDuration     time.Duration // default 2s
	TargetedRate    float64       // order events + notifications per second, default 2000
	TargetedFor     time.Duration // default 5s
	LocationFor     time.Duration // location relay (every agent at 1 Hz), default 5s
	PinnedRate      float64       // broadcasts/s with the gateway pinned to one core, default 20
	PinnedFor       time.Duration // default 2s
	NoPinned        bool          // skip the pinned scenario (it needs taskset and 2 CPUs)
	Drain           bool          // run the drain scenario (ours only; needs recovery in the gateway)
	DrainRate       float64       // broadcasts/s during the drain, default 2
	DrainFor        time.Duration // length of that stream, default 15s
	IdleSettle      time.Duration // pause before reading idle memory, default 5s
	Quiet           time.Duration // a scenario ends when nothing arrived for this long, default 15s
	ScenarioTimeout time.Duration // longest wait for deliveries after publishing, default 60s

	Sides      []string  // default node then ours
	WorkDir    string    // logs and Redis files; default a new temp dir
	GatewayBin string    // our gateway binary; default built from the tree
	NodeDir    string    // default <repo>/test/bench/node
	Log        io.Writer // progress; default io.Discard
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defF := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Sockets, 10000)
	def(&c.IdleMax, 19500)
	def(&c.Admins, 2)
	def(&c.Agents, 1000)
	c.Agents = max(1, min(c.Agents, c.Sockets/10))
	def(&c.Concurrency, 100)
	def(&c.SlowBroadcasts, 5)
	defF(&c.SteadyRate, 5)
	defD(&c.SteadyFor, 6*time.Second)
	defF(&c.SatRate, 100)
	defD(&c.SatDuration, 2*time.Second)
	defF(&c.TargetedRate, 2000)
	defD(&c.TargetedFor, 5*time.Second)
	defD(&c.LocationFor, 5*time.Second)
	defF(&c.PinnedRate, 20)
	defD(&c.PinnedFor, 2*time.Second)
	defD(&c.IdleSettle, 5*time.Second)
	defF(&c.DrainRate, 2)
	defD(&c.DrainFor, 15*time.Second)
	defD(&c.Quiet, 15*time.Second)
	defD(&c.ScenarioTimeout, 60*time.Second)
	if len(c.Sides) == 0 {
		c.Sides = []string{SideNode, SideOurs}
	}
	if c.NodeDir == "" {
		c.NodeDir = filepath.Join(harness.RepoRoot(), "test", "bench", "node")
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Defaults returns the default sizes, those of `make bench`.
func Defaults() Config {
	var c Config
	c.defaults()
	return c
}

func (c *Config) validate() error {
	var errs []error
	if c.Sockets < 10 {
		errs = append(errs, fmt.Errorf("sockets must be at least 10, got %d", c.Sockets))
	}
	if c.Admins < 1 || c.Admins+2*c.Agents > c.Sockets {
		errs = append(errs, fmt.Errorf("need at least 1 admin and admins + 2×agents ≤ sockets (got %d admins, %d agents, %d sockets)", c.Admins, c.Agents, c.Sockets))
	}
	for _, s := range c.Sides {
		if s != SideNode && s != SideOurs {
			errs = append(errs, fmt.Errorf("unknown side %q (node or ours)", s))
		}
	}
	for _, r := range []float64{c.SteadyRate, c.SatRate, c.TargetedRate, c.PinnedRate} {
		if r < 0 || r > 1e6 {
			errs = append(errs, fmt.Errorf("rate %v out of range", r))
		}
	}
	return errors.Join(errs...)
}

// Run runs every scenario against each side in turn and returns the
// results. ctx cancels the run.
func Run(ctx context.Context, cfg Config) (_ *Results, err error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	raiseFileLimit()
	if cfg.WorkDir == "" {
		dir, err := os.MkdirTemp("", "fph-bench-")
		if err != nil {
			return nil, err
		}
		cfg.WorkDir = dir
		// Kept when the run fails: the gateways' logs are there.
		defer func() {
			if err == nil {
				_ = os.RemoveAll(dir)
			} else {
				fmt.Fprintf(cfg.Log, "bench: logs kept in %s\n", dir)
			}
		}()
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(cfg.Log, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	for _, s := range cfg.Sides {
		if s == SideNode {
			if _, err := os.Stat(filepath.Join(cfg.NodeDir, "node_modules", "socket.io")); err != nil {
				return nil, fmt.Errorf("the Node reference gateway needs its packages: npm ci --prefix %s (make bench does it)", cfg.NodeDir)
			}
		}
	}
	if cfg.GatewayBin == "" {
		logf("building ./gateway/cmd/gateway")
		bin, err := buildGateway(cfg.WorkDir)
		if err != nil {
			return nil, err
		}
		cfg.GatewayBin = bin
	}
	dir, err := startDirectory(benchInternalToken)
	if err != nil {
		return nil, err
	}
	defer dir.close()

	res := &Results{
		Started: time.Now().UTC(), CPUs: runtime.NumCPU(), LoadAvg: loadAvg(),
		Sockets: cfg.Sockets, IdleMax: cfg.IdleMax, Admins: cfg.Admins, Agents: cfg.Agents, SteadyRate: cfg.SteadyRate,
		WorkDir: cfg.WorkDir,
	}
	res.Notes = append(res.Notes,
		"orderapi is not run: the bench answers the gateways' internal lookups (users, order parties) itself, from its id scheme, at "+dir.URL(),
		"events are published on each gateway's own redis-server with shared/bus, as orderapi would",
		"latency is from the publish instant (envelope `at`, kept by the bench at full precision) or the agent's emit, to receipt by the bench's socket",
	)
	logf("%s", res.Notes[0])
	for _, side := range cfg.Sides {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		u0, p0 := dir.users.Load(), dir.parties.Load()
		rs, err := runSide(ctx, cfg, side, dir.URL(), logf)
		res.Scenarios = append(res.Scenarios, rs...)
		res.Lookups = append(res.Lookups, Lookups{Side: side, Users: dir.users.Load() - u0, Parties: dir.parties.Load() - p0})
		if err != nil {
			return res, fmt.Errorf("%s: %w", side, err)
		}
	}
	if !cfg.Drain {
		res.Scenarios = append(res.Scenarios, Scenario{Name: ScDrain, Side: SideOurs, Note: "not run: disabled (-drain)"})
	}
	res.Finished = time.Now().UTC()
	res.LoadAvgEnd = loadAvg()
	return res, nil
}

// buildGateway builds our gateway from the tree into dir.
func buildGateway(dir string) (string, error) {
	bin := filepath.Join(dir, "gateway")
	cmd := exec.Command("go", "build", "-o", bin, "./gateway/cmd/gateway")
	cmd.Dir = harness.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./gateway/cmd/gateway: %w\n%s", err, out)
	}
	return bin, nil
}

// raiseFileLimit lifts the soft open-file limit to the hard one, for this
// process and the gateways it starts (10 000+ sockets each).
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
