package testapi

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/friendspizzahut/platform/test/harness"
)

// Env is a running stack with what every end-to-end test uses on it: the
// REST client, a bus publisher and the seeded admin, logged in.
type Env struct {
	Stack *harness.Stack
	API   *Client
	Bus   *Publisher
	Admin User
}

// StartEnv starts a stack of its own for tb (harness.Start: it stops when
// tb ends) and logs in as its admin.
func StartEnv(tb testing.TB, opts harness.Options) *Env {
	tb.Helper()
	st := harness.Start(tb, opts)
	api := New(st)
	return &Env{Stack: st, API: api, Bus: NewPublisher(tb, st.RedisURL), Admin: api.Admin(tb)}
}

// Shared is one stack for the tests of a package that do not change it
// (no restarts, no special configuration): FerretDB is slow, and a stack
// per test would recreate the same admin session, menu and processes
// again and again. It starts when the first test asks for it and stops
// after the last test of the package:
//
//	var shared = testapi.NewShared(harness.Options{Gateways: 2})
//
//	func TestMain(m *testing.M) { os.Exit(shared.Run(m)) }
//
//	func TestX(t *testing.T) { e := shared.Env(t); ... }
//
// Tests on it create their own users and orders, so they do not see each
// other's data; a failing test gets the log lines each process wrote
// while it ran.
type Shared struct {
	opts harness.Options

	mu   sync.Mutex
	tb   *packageTB // set by Run
	env  *Env
	err  string // why the start failed
	done bool   // start attempted
}

// NewShared describes the shared stack; nothing starts yet.
func NewShared(opts harness.Options) *Shared { return &Shared{opts: opts} }

// Run runs the package's tests (m.Run) and then stops the shared stack if
// a test started it. Call it from TestMain and exit with its result.
func (s *Shared) Run(m *testing.M) int {
	s.mu.Lock()
	ctx, cancel := context.WithCancel(context.Background())
	s.tb = &packageTB{name: "shared", ctx: ctx}
	s.mu.Unlock()
	code := m.Run()
	s.mu.Lock()
	defer s.mu.Unlock()
	cancel()
	s.tb.runCleanups()
	if s.tb.Failed() && code == 0 {
		code = 1
	}
	return code
}

// Env returns the shared stack, starting it on first use (a failed start
// fails this and every later caller).
func (s *Shared) Env(t *testing.T) *Env {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tb == nil {
		t.Fatal("testapi.Shared: call Run from the package's TestMain")
	}
	if !s.done {
		s.done = true
		s.env, s.err = s.start()
	}
	if s.err != "" {
		t.Fatalf("shared stack: %s", s.err)
	}
	marks := s.logMarks()
	t.Cleanup(func() {
		if t.Failed() {
			s.logSince(t, marks)
		}
	})
	return s.env
}

func (s *Shared) start() (env *Env, failure string) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			failure = string(f)
		}
	}()
	return StartEnv(s.tb, s.opts), ""
}

// processes names the stack's processes as harness.Stack.LogPath does.
func (s *Shared) processes() []string {
	names := []string{"orderapi"}
	for i := range s.env.Stack.Gateways() {
		names = append(names, s.env.Stack.GatewayID(i))
	}
	return names
}

// logMarks returns the current size of each process log.
func (s *Shared) logMarks() map[string]int64 {
	marks := map[string]int64{}
	for _, name := range s.processes() {
		if fi, err := os.Stat(s.env.Stack.LogPath(name)); err == nil {
			marks[name] = fi.Size()
		}
	}
	return marks
}

// logSince logs what each process wrote after marks (its last 8 KB).
func (s *Shared) logSince(t *testing.T, marks map[string]int64) {
	const max = 8 << 10
	for _, name := range s.processes() {
		f, err := os.Open(s.env.Stack.LogPath(name))
		if err != nil {
			continue
		}
		from := marks[name]
		if fi, err := f.Stat(); err == nil && fi.Size()-from > max {
			from = fi.Size() - max
		}
		_, _ = f.Seek(from, io.SeekStart)
		b, _ := io.ReadAll(f)
		_ = f.Close()
		t.Logf("----- %s log during this test (%s) -----\n%s", name, s.env.Stack.LogPath(name), strings.TrimRight(string(b), "\n"))
	}
}

// fatal carries a packageTB failure out of the start to Env.
type fatal string

// packageTB is the testing.TB of the shared stack: it lives from TestMain
// to the end of the package's tests. Fatal ends the start (Env turns it
// into a failure of the asking test); cleanups run after m.Run, in
// reverse order, like a test's.
type packageTB struct {
	testing.TB // only to have the interface's unexported method; never called

	name string
	ctx  context.Context // cancelled just before the cleanups run

	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

func (p *packageTB) Helper()          {}
func (p *packageTB) Name() string     { return p.name }
func (p *packageTB) Attr(_, _ string) {}

func (p *packageTB) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}

func (p *packageTB) runCleanups() {
	for {
		p.mu.Lock()
		n := len(p.cleanups)
		if n == 0 {
			p.mu.Unlock()
			return
		}
		f := p.cleanups[n-1]
		p.cleanups = p.cleanups[:n-1]
		p.mu.Unlock()
		p.runCleanup(f)
	}
}

// runCleanup runs f; a Fatal in it has been recorded and ends only f.
func (p *packageTB) runCleanup(f func()) {
	defer func() {
		if r := recover(); r != nil {
			msg, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			p.Logf("cleanup: %s", msg)
		}
	}()
	f()
}

func (p *packageTB) Log(args ...any) { p.Logf("%s", fmt.Sprintln(args...)) }
func (p *packageTB) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", p.name, strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
}

func (p *packageTB) Fail() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failed = true
}

func (p *packageTB) Failed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

func (p *packageTB) Error(args ...any) { p.Log(args...); p.Fail() }
func (p *packageTB) Errorf(format string, args ...any) {
	p.Logf(format, args...)
	p.Fail()
}

func (p *packageTB) FailNow() { p.Fail(); panic(fatal("failed")) }
func (p *packageTB) Fatal(args ...any) {
	p.Fail()
	panic(fatal(strings.TrimRight(fmt.Sprintln(args...), "\n")))
}
func (p *packageTB) Fatalf(format string, args ...any) {
	p.Fail()
	panic(fatal(fmt.Sprintf(format, args...)))
}

func (p *packageTB) SkipNow()                         { p.Fatal("skip is not supported by the shared stack") }
func (p *packageTB) Skip(args ...any)                 { p.Fatal(append([]any{"skip:"}, args...)...) }
func (p *packageTB) Skipf(format string, args ...any) { p.Fatalf("skip: "+format, args...) }
func (p *packageTB) Skipped() bool                    { return false }
func (p *packageTB) Setenv(key, _ string) {
	p.Fatalf("Setenv(%s) is not supported by the shared stack", key)
}
func (p *packageTB) Chdir(dir string) {
	p.Fatalf("Chdir(%s) is not supported by the shared stack", dir)
}
func (p *packageTB) Output() io.Writer   { return os.Stderr }
func (p *packageTB) ArtifactDir() string { return p.TempDir() }

func (p *packageTB) Context() context.Context { return p.ctx }

// TempDir returns a new directory, removed after the cleanups registered
// after it (so after the processes that use it stopped).
func (p *packageTB) TempDir() string {
	dir, err := os.MkdirTemp("", "fph-"+p.name+"-*")
	if err != nil {
		p.Fatalf("TempDir: %v", err)
	}
	p.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			p.Errorf("TempDir cleanup: %v", err)
		}
	})
	return dir
}
