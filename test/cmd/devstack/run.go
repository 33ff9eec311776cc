package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/friendspizzahut/platform/shared/config"
	"github.com/friendspizzahut/platform/shared/logging"
	"github.com/friendspizzahut/platform/test/infra"
	"github.com/friendspizzahut/platform/test/proxy"
)

// cfg is the dev stack's configuration, read once from the environment.
// Every other variable (SEED_ADMIN_*, RATE_LIMIT_*, PING_INTERVAL, ...)
// is passed through to the services unchanged.
type cfg struct {
	Root          string // the repository root (found from the working directory)
	Port          int    // PORT, the single origin, default 5000
	OrderAPIPort  int    // ORDERAPI_PORT, default 5001 (0: a free port)
	GatewayPorts  []int  // GATEWAY_PORTS, one per replica, default 5002,5003 (0: a free port)
	MongoURI      string // MONGODB_URI; unset: embedded FerretDB
	RedisURL      string // REDIS_URL; unset: embedded miniredis
	DataDir       string // DATA_DIR, FerretDB files, default <root>/.data/ferretdb
	BinDir        string // BIN_DIR, built binaries, default <root>/bin (make build)
	AdminDir      string // ADMIN_DIR, default <root>/admin/dist when it exists
	JWTSecret     string // JWT_SECRET, dev default with a warning
	InternalToken string // INTERNAL_TOKEN, dev default with a warning
	Seed          bool   // SEED, default true
	Demo          bool   // DEMO, also run demo/simulator.mjs against the stack
	LogFormat     string // LOG_FORMAT text|json, default text
	LogLevel      string // LOG_LEVEL, default info

	warnings []string
}

func loadConfig(getenv func(string) string) (cfg, error) {
	root, err := findRoot()
	if err != nil {
		return cfg{}, err
	}
	r := config.NewReader(getenv)
	c := cfg{
		Root:          root,
		Port:          r.Port("PORT", 5000),
		OrderAPIPort:  r.Port("ORDERAPI_PORT", 5001),
		MongoURI:      r.URL("MONGODB_URI", "", "mongodb", "mongodb+srv"),
		RedisURL:      r.Redis("REDIS_URL"),
		DataDir:       r.String("DATA_DIR", filepath.Join(root, ".data", "ferretdb")),
		BinDir:        r.String("BIN_DIR", filepath.Join(root, "bin")),
		AdminDir:      r.String("ADMIN_DIR", ""),
		JWTSecret:     r.String("JWT_SECRET", ""),
		InternalToken: r.String("INTERNAL_TOKEN", ""),
		Seed:          r.Bool("SEED", true),
		Demo:          r.Bool("DEMO", false),
		LogFormat:     r.OneOf("LOG_FORMAT", "text", "text", "json"),
		LogLevel:      r.OneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
	}
	for _, p := range r.List("GATEWAY_PORTS", []string{"5002", "5003"}) {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			r.Fail("GATEWAY_PORTS", "%q is not a port", p)
			continue
		}
		c.GatewayPorts = append(c.GatewayPorts, n)
	}
	if len(c.GatewayPorts) == 0 {
		r.Fail("GATEWAY_PORTS", "needs at least one port")
	}
	if c.AdminDir == "" {
		if st, err := os.Stat(filepath.Join(root, "admin", "dist")); err == nil && st.IsDir() {
			c.AdminDir = filepath.Join(root, "admin", "dist")
		}
	}
	if c.JWTSecret == "" {
		c.JWTSecret = config.DevJWTSecret
		c.warnings = append(c.warnings, "JWT_SECRET is not set: using the public development secret")
	}
	if c.InternalToken == "" {
		c.InternalToken = config.DevInternalToken
		c.warnings = append(c.warnings, "INTERNAL_TOKEN is not set: using the public development token")
	}
	return c, r.Err()
}

// findRoot walks up from the working directory to the one holding go.work.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.work not found above the working directory: run from the repository (make run)")
		}
		dir = parent
	}
}

// run starts the stack, prints where everything runs and blocks until
// SIGINT/SIGTERM (then stops the children gracefully and returns nil) or
// until a child dies (then stops the rest and returns why).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := runStack(ctx, getenv, stdout, stderr)
	if err != nil && ctx.Err() != nil {
		// Ctrl-C during start-up is a clean stop, not a failure.
		return nil
	}
	return err
}

func runStack(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	logger := logging.New(stderr, c.LogFormat, c.LogLevel).With("component", "devstack")
	for _, w := range c.warnings {
		logger.Warn("!!! INSECURE DEFAULT !!! " + w + " (fine for development; set it in production)")
	}
	bins := map[string]string{"orderapi": filepath.Join(c.BinDir, "orderapi"), "gateway": filepath.Join(c.BinDir, "gateway")}
	for name, path := range bins {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s binary not found at %s: run `make build` first (or use `make run`)", name, path)
		}
	}

	// Listen first: a busy front port fails at once, before anything starts.
	front, err := net.Listen("tcp", ":"+strconv.Itoa(c.Port))
	if err != nil {
		return fmt.Errorf("listen on PORT %d: %w", c.Port, err)
	}
	defer front.Close()
	frontURL := "http://127.0.0.1:" + infra.Port(front.Addr().String())

	g, gctx := errgroup.WithContext(ctx)
	mongoURI, mongoDesc := c.MongoURI, dep{config.Redact(c.MongoURI), "external (MONGODB_URI)"}
	if mongoURI == "" {
		ferretLog := logging.New(stderr, c.LogFormat, "error").With("component", "ferretdb")
		f, err := infra.RunFerret(gctx, c.DataDir, "127.0.0.1:0", ferretLog)
		if err != nil {
			return fmt.Errorf("embedded FerretDB: %w", err)
		}
		defer f.Close()
		mongoURI = f.URI()
		mongoDesc = dep{mongoURI, "embedded FerretDB, data in " + c.DataDir}
	}
	redisURL, redisDesc := c.RedisURL, dep{config.Redact(c.RedisURL), "external (REDIS_URL)"}
	if redisURL == "" {
		m, tick, err := startMiniredis("127.0.0.1:0")
		if err != nil {
			return err
		}
		defer m.Close()
		g.Go(func() error { return tick(gctx) })
		redisURL = "redis://" + m.Addr() + "/0"
		redisDesc = dep{redisURL, "embedded miniredis, in memory"}
	}

	out := &lockedWriter{w: stdout}
	common := map[string]string{
		"REDIS_URL":      redisURL,
		"JWT_SECRET":     c.JWTSecret,
		"INTERNAL_TOKEN": c.InternalToken,
		"LOG_FORMAT":     c.LogFormat,
		"LOG_LEVEL":      c.LogLevel,
	}
	var children []*child // in start order; stopped in reverse
	defer func() {
		for i := len(children) - 1; i >= 0; i-- {
			children[i].stop(10 * time.Second)
		}
	}()
	startService := func(name, bin string, p int, env map[string]string) (*child, error) {
		addr, err := listenAddr(p)
		if err != nil {
			return nil, err
		}
		env = infra.MergeEnv(common, env, map[string]string{"PORT": infra.Port(addr)})
		if _, gateway := env["GATEWAY_ID"]; gateway {
			env["GATEWAY_INTERNAL_URL"] = "http://" + addr // replicas forward sessions to each other here
		}
		ch, err := startChild(name, bin, nil, c.Root, env, out)
		if err != nil {
			return nil, err
		}
		children = append(children, ch)
		ch.url = "http://" + addr
		readyCtx, cancel := context.WithTimeout(gctx, 2*time.Minute)
		defer cancel()
		if err := infra.WaitReady(readyCtx, ch.url+"/readyz", ch.done); err != nil {
			return nil, fmt.Errorf("%s did not become ready: %w (see its log lines above)", name, err)
		}
		logger.Info("ready", "service", name, "url", ch.url)
		return ch, nil
	}

	apiEnv := map[string]string{"MONGODB_URI": mongoURI, "SEED": strconv.FormatBool(c.Seed),
		"UPLOAD_DIR": filepath.Join(filepath.Dir(c.DataDir), "uploads")} // next to the FerretDB files
	if c.AdminDir != "" {
		apiEnv["ADMIN_DIR"] = c.AdminDir
	}
	api, err := startService("orderapi", bins["orderapi"], c.OrderAPIPort, apiEnv)
	if err != nil {
		return err
	}
	var gatewayURLs []string
	for i, p := range c.GatewayPorts {
		id := "g" + strconv.Itoa(i+1)
		gwEnv := map[string]string{"GATEWAY_ID": id, "ORDERAPI_URL": api.url}
		// A quick drain unless asked otherwise: the children get 10s to stop.
		for k, v := range map[string]string{"GATEWAY_DRAIN_DELAY": "1s", "GATEWAY_DRAIN_WINDOW": "3s"} {
			if _, set := os.LookupEnv(k); !set {
				gwEnv[k] = v
			}
		}
		gw, err := startService(id, bins["gateway"], p, gwEnv)
		if err != nil {
			return err
		}
		gatewayURLs = append(gatewayURLs, gw.url)
	}

	px, err := proxy.New(proxy.Config{OrderAPI: api.url, Gateways: gatewayURLs, Logger: logger.With("component", "proxy")})
	if err != nil {
		return err
	}
	g.Go(func() error { return proxy.Serve(gctx, front, px) })
	for _, ch := range children {
		g.Go(func() error { return ch.watch(gctx) })
	}

	printTable(out, c, frontURL, api.url, gatewayURLs, mongoDesc, redisDesc, getenv)

	if c.Demo {
		sim := filepath.Join(c.Root, "demo", "simulator.mjs")
		if _, err := os.Stat(sim); err != nil {
			logger.Warn("DEMO=1 but demo/simulator.mjs is missing: no simulator started")
		} else {
			email, password := getenv("SEED_ADMIN_EMAIL"), getenv("SEED_ADMIN_PASSWORD")
			demoEnv := map[string]string{"BASE_URL": frontURL}
			if email != "" && getenv("ADMIN_EMAIL") == "" {
				demoEnv["ADMIN_EMAIL"] = email
			}
			if password != "" && getenv("ADMIN_PASSWORD") == "" {
				demoEnv["ADMIN_PASSWORD"] = password
			}
			demo, err := startChild("demo", "node", []string{sim}, c.Root, demoEnv, out)
			if err != nil {
				return err
			}
			// The simulator is not part of the platform: when it ends, the
			// stack keeps running.
			demo.optional = true
			children = append(children, demo)
			g.Go(func() error { return demo.watch(gctx) })
		}
	}

	<-gctx.Done()
	if ctx.Err() != nil {
		logger.Info("stopping (signal received)")
	}
	for i := len(children) - 1; i >= 0; i-- {
		children[i].stop(10 * time.Second)
	}
	if err := g.Wait(); err != nil {
		return err
	}
	logger.Info("stopped cleanly")
	return nil
}

func printTable(w io.Writer, c cfg, front, api string, gateways []string, db, redis dep, getenv func(string) string) {
	email, password := getenv("SEED_ADMIN_EMAIL"), getenv("SEED_ADMIN_PASSWORD")
	if email == "" {
		email = "admin@friendspizzahut.test"
	}
	if password == "" {
		password = "Admin12345"
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  front door\t%s\t/socket.io/ → gateways (sticky); /api/v1, /health, /admin → orderapi\n", front)
	fmt.Fprintf(tw, "  orderapi\t%s\t\n", api)
	for i, g := range gateways {
		fmt.Fprintf(tw, "  gateway g%d\t%s\t\n", i+1, g)
	}
	fmt.Fprintf(tw, "  MongoDB\t%s\t%s\n", db.url, db.note)
	fmt.Fprintf(tw, "  Redis\t%s\t%s\n", redis.url, redis.note)
	if c.AdminDir != "" {
		fmt.Fprintf(tw, "  admin UI\t%s/admin\tfiles: %s\n", front, c.AdminDir)
	} else {
		fmt.Fprintf(tw, "  admin UI\tnot built\trun `make build`\n")
	}
	if c.Seed {
		fmt.Fprintf(tw, "  admin login\t%s / %s\tseeded (SEED_ADMIN_EMAIL / SEED_ADMIN_PASSWORD)\n", email, password)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nFriends Pizza Hut dev stack is up\n\n%s\nPress Ctrl-C to stop.\n\n", b.Bytes())
}

// dep describes a backing server for the start-up table.
type dep struct{ url, note string }

// listenAddr turns a configured port into a loopback address; 0 picks a
// free port.
func listenAddr(p int) (string, error) {
	if p == 0 {
		return infra.FreeAddr()
	}
	return "127.0.0.1:" + strconv.Itoa(p), nil
}

// child is a supervised child process whose output lines are prefixed with
// its name.
type child struct {
	name     string
	url      string
	optional bool // its exit does not bring the stack down
	cmd      *exec.Cmd
	done     chan struct{}
	once     sync.Once
}

// startChild runs bin with the dev stack's own environment plus env
// (children inherit everything else, e.g. SEED_ADMIN_EMAIL).
func startChild(name, bin string, args []string, dir string, env map[string]string, out *lockedWriter) (*child, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v) // later entries win
	}
	pw := &prefixWriter{prefix: fmt.Sprintf("%-8s| ", name), out: out}
	cmd.Stdout, cmd.Stderr = pw, pw
	infra.KillWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	ch := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		pw.flush()
		_, _ = pw.Write([]byte("[" + cmd.ProcessState.String() + "]\n"))
		close(ch.done)
	}()
	return ch, nil
}

// watch returns an error if the child exits before ctx ends.
func (ch *child) watch(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-ch.done:
		if ctx.Err() != nil || ch.optional {
			return nil
		}
		return fmt.Errorf("%s exited unexpectedly (%s): stopping the whole stack; its last log lines are above", ch.name, ch.cmd.ProcessState)
	}
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs. Safe to call twice.
func (ch *child) stop(grace time.Duration) {
	ch.once.Do(func() { infra.StopProcess(ch.cmd, ch.done, syscall.SIGTERM, grace) })
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixWriter writes whole lines, each prefixed, so that concurrent
// children do not interleave mid-line.
type prefixWriter struct {
	prefix string
	out    *lockedWriter
	mu     sync.Mutex
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		_, _ = p.out.Write([]byte(p.prefix + string(p.buf[:i+1])))
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		_, _ = p.out.Write([]byte(p.prefix + strings.TrimRight(string(p.buf), "\n") + "\n"))
		p.buf = nil
	}
}
