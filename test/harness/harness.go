// Package harness runs the whole platform for end-to-end tests: a real
// redis-server and an embedded FerretDB (test/infra), orderapi and N
// gateway replicas as real processes (built once per test binary) on free
// ports, and the front proxy (test/proxy) in-process in front of them.
//
//	st := harness.Start(t, harness.Options{Gateways: 2})
//	resp, _ := http.Get(st.URL() + "/health")
//	tok, _ := st.Signer().IssueAccess(userID, email, "admin")
//	st.KillOrderAPI(); st.StartOrderAPI(t, nil)     // crash and recover
//	st.Redis().Restart(t)                            // Redis outage
//
// Each process's output goes to <name>.log in a t.TempDir(); when the test
// fails the tail of every log is printed. Everything stops, in reverse
// order, when the test ends.
package harness

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/test/infra"
	"github.com/friendspizzahut/platform/test/proxy"
)

// Fixed secrets of every test stack; tests sign tokens with Signer().
const (
	JWTSecret     = "harness-jwt-secret-0123456789abcdef"
	InternalToken = "harness-internal-token-0123456789"
	AdminEmail    = "admin@friendspizzahut.test"
	AdminPassword = "Admin12345"
)

// Options configures a Stack. Env applies to both services; OrderAPIEnv
// and GatewayEnv to one of them and win over Env.
type Options struct {
	Gateways    int // gateway replicas, default 2
	Env         map[string]string
	OrderAPIEnv map[string]string
	GatewayEnv  map[string]string
	// RedisURL, when set, is used instead of starting a redis-server (for
	// example infra.StartSentinel's URL); Redis() is then nil.
	RedisURL string
}

// Stack is a running platform. Its fields are fixed for its lifetime.
type Stack struct {
	RedisURL      string // redis://127.0.0.1:port/0, or Options.RedisURL
	MongoURI      string // FerretDB, with maxPoolSize=1
	Database      string // MONGODB_DATABASE of orderapi
	JWTSecret     string
	InternalToken string

	tb       testing.TB
	redis    *infra.Redis
	orderapi *process
	gateways []*process
	proxyURL string
	proxy    *proxy.Proxy
}

// Start brings a stack up and fails the test if any part does not become
// ready. It registers the teardown with tb.Cleanup.
func Start(tb testing.TB, opts Options) *Stack {
	tb.Helper()
	if opts.Gateways <= 0 {
		opts.Gateways = 2
	}
	bins, err := binaries()
	if err != nil {
		tb.Fatalf("harness: %v", err)
	}
	logDir := tb.TempDir()
	st := &Stack{tb: tb, JWTSecret: JWTSecret, InternalToken: InternalToken}
	// Registered first, so it runs last: after the processes stopped and
	// their logs are complete.
	tb.Cleanup(func() {
		if tb.Failed() {
			st.dumpLogs()
		}
	})

	if opts.RedisURL != "" {
		st.RedisURL = opts.RedisURL
	} else {
		st.redis = infra.StartRedis(tb)
		st.RedisURL = st.redis.URL()
	}
	ferret := infra.StartFerret(tb)
	st.MongoURI = ferret.URI()
	st.Database = infra.NewDatabaseName(tb)

	common := map[string]string{
		"REDIS_URL":      st.RedisURL,
		"JWT_SECRET":     JWTSecret,
		"INTERNAL_TOKEN": InternalToken,
		"LOG_FORMAT":     "text",
		"LOG_LEVEL":      "debug",
	}
	st.orderapi = &process{
		name: "orderapi", bin: bins.OrderAPI, addr: mustFreeAddr(tb),
		logPath: filepath.Join(logDir, "orderapi.log"),
		env: infra.MergeEnv(common, map[string]string{
			"MONGODB_URI":         st.MongoURI,
			"MONGODB_DATABASE":    st.Database,
			"SEED":                "true",
			"SEED_ADMIN_EMAIL":    AdminEmail,
			"SEED_ADMIN_PASSWORD": AdminPassword,
			"UPLOAD_DIR":          filepath.Join(tb.TempDir(), "uploads"),
		}, opts.Env, opts.OrderAPIEnv),
	}
	startOnFreePort(tb, st.orderapi)
	tb.Cleanup(func() { st.orderapi.stop(syscall.SIGTERM, 10*time.Second) })

	var gatewayURLs []string
	for i := range opts.Gateways {
		id := "g" + strconv.Itoa(i+1)
		g := &process{
			name: id, bin: bins.Gateway, addr: mustFreeAddr(tb),
			logPath: filepath.Join(logDir, id+".log"),
			env: infra.MergeEnv(common, map[string]string{
				"ORDERAPI_URL": st.orderapi.url(),
				"GATEWAY_ID":   id,
				// A quick drain, so that stopping a replica stays quick.
				"GATEWAY_DRAIN_DELAY":  "100ms",
				"GATEWAY_DRAIN_WINDOW": "1s",
			}, opts.Env, opts.GatewayEnv),
		}
		startOnFreePort(tb, g)
		tb.Cleanup(func() { g.stop(syscall.SIGTERM, 10*time.Second) })
		st.gateways = append(st.gateways, g)
		gatewayURLs = append(gatewayURLs, g.url())
	}

	st.startProxy(tb, gatewayURLs)
	return st
}

func (st *Stack) startProxy(tb testing.TB, gateways []string) {
	tb.Helper()
	p, err := proxy.New(proxy.Config{OrderAPI: st.orderapi.url(), Gateways: gateways})
	if err != nil {
		tb.Fatalf("harness: proxy: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("harness: proxy listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proxy.Serve(ctx, l, p) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("harness: proxy: %v", err)
		}
	})
	st.proxy = p
	st.proxyURL = "http://" + l.Addr().String()
}

// URL is the stack's single origin (the front proxy), like
// http://127.0.0.1:5000 of the dev stack.
func (st *Stack) URL() string { return st.proxyURL }

// OrderAPIURL is orderapi's own address, bypassing the proxy (its
// /internal/ API is reachable here only).
func (st *Stack) OrderAPIURL() string { return st.orderapi.url() }

// Gateways returns the number of gateway replicas.
func (st *Stack) Gateways() int { return len(st.gateways) }

// GatewayURL is the address of gateway i (0-based; its GATEWAY_ID is
// "g<i+1>"), bypassing the proxy.
func (st *Stack) GatewayURL(i int) string { return st.gateways[i].url() }

// GatewayID is the GATEWAY_ID of gateway i ("g1" for 0).
func (st *Stack) GatewayID(i int) string { return st.gateways[i].name }

// Proxy returns the in-process front proxy.
func (st *Stack) Proxy() *proxy.Proxy { return st.proxy }

// Redis returns the redis-server, e.g. to Restart it mid-test (nil when
// Options.RedisURL was given).
func (st *Stack) Redis() *infra.Redis { return st.redis }

// Signer signs and verifies JWTs with the stack's JWT_SECRET.
func (st *Stack) Signer() *auth.Signer { return auth.NewSigner(st.JWTSecret, nil) }

// AdminCredentials returns the seeded admin's email and password.
func (st *Stack) AdminCredentials() (email, password string) { return AdminEmail, AdminPassword }

// KillOrderAPI SIGKILLs orderapi (a crash: no graceful shutdown) and waits
// until it is gone.
func (st *Stack) KillOrderAPI() { st.orderapi.stop(syscall.SIGKILL, 0) }

// StopOrderAPI stops orderapi gracefully (SIGTERM).
func (st *Stack) StopOrderAPI() { st.orderapi.stop(syscall.SIGTERM, 15*time.Second) }

// StartOrderAPI starts orderapi again on its port, with env overriding its
// original environment for this run, and waits until it is ready.
func (st *Stack) StartOrderAPI(tb testing.TB, env map[string]string) {
	tb.Helper()
	if err := st.orderapi.start(env); err != nil {
		tb.Fatalf("harness: %v", err)
	}
}

// RestartOrderAPI stops orderapi gracefully and starts it again.
func (st *Stack) RestartOrderAPI(tb testing.TB, env map[string]string) {
	tb.Helper()
	st.StopOrderAPI()
	st.StartOrderAPI(tb, env)
}

// OrderAPIRunning reports whether the orderapi process is alive.
func (st *Stack) OrderAPIRunning() bool { return st.orderapi.running() }

// StopGateway stops gateway i gracefully (SIGTERM, as an orchestrator
// would) and waits for it to exit.
func (st *Stack) StopGateway(i int) { st.gateways[i].stop(syscall.SIGTERM, 15*time.Second) }

// KillGateway SIGKILLs gateway i.
func (st *Stack) KillGateway(i int) { st.gateways[i].stop(syscall.SIGKILL, 0) }

// StartGateway starts gateway i again on its port and waits until ready.
func (st *Stack) StartGateway(tb testing.TB, i int, env map[string]string) {
	tb.Helper()
	if err := st.gateways[i].start(env); err != nil {
		tb.Fatalf("harness: %v", err)
	}
}

// GatewayRunning reports whether gateway i's process is alive.
func (st *Stack) GatewayRunning(i int) bool { return st.gateways[i].running() }

// LogPath returns the log file of "orderapi" or a gateway id ("g1"...).
func (st *Stack) LogPath(name string) string {
	if name == "orderapi" {
		return st.orderapi.logPath
	}
	for _, g := range st.gateways {
		if g.name == name {
			return g.logPath
		}
	}
	return ""
}

// Log returns the current contents of a process log (see LogPath).
func (st *Stack) Log(name string) string { return infra.TailFile(st.LogPath(name), 1<<30) }

// WaitHTTP polls url until it answers want, or fails the test after
// timeout. For checks like "orderapi is back" through the proxy.
func (st *Stack) WaitHTTP(tb testing.TB, url string, want int, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	last := "no answer"
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("GET %s: no %d within %s (last: %s)", url, want, timeout, last)
}

func (st *Stack) dumpLogs() {
	procs := append([]*process{st.orderapi}, st.gateways...)
	for _, p := range procs {
		if p == nil {
			continue
		}
		st.tb.Logf("----- %s log (%s), tail -----\n%s", p.name, p.logPath, infra.TailFile(p.logPath, 6000))
	}
}

// startOnFreePort starts p on its free port, moving to another one if the
// port was taken between picking and binding it (parallel test processes).
func startOnFreePort(tb testing.TB, p *process) {
	tb.Helper()
	for attempt := 1; ; attempt++ {
		p.env["PORT"] = infra.Port(p.addr)
		if _, gateway := p.env["GATEWAY_ID"]; gateway {
			p.env["GATEWAY_INTERNAL_URL"] = p.url() // replicas forward sessions to each other here
		}
		err := p.start(nil)
		if err == nil {
			return
		}
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			tb.Fatalf("harness: %v", err)
		}
		p.addr = mustFreeAddr(tb)
	}
}

func mustFreeAddr(tb testing.TB) string {
	tb.Helper()
	a, err := infra.FreeAddr()
	if err != nil {
		tb.Fatalf("harness: %v", err)
	}
	return a
}

// String describes the stack for test logs.
func (st *Stack) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "proxy %s, orderapi %s", st.URL(), st.OrderAPIURL())
	for _, g := range st.gateways {
		fmt.Fprintf(&b, ", %s %s", g.name, g.url())
	}
	fmt.Fprintf(&b, ", redis %s, mongo %s db %s", st.RedisURL, st.MongoURI, st.Database)
	return b.String()
}
