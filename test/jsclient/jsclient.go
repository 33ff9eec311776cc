// Package jsclient drives the real JavaScript socket.io-client (4.8, pinned
// in test/js/package.json) from Go tests. One Driver is one Node process
// (test/js/driver.mjs) holding any number of sockets; commands go to it as
// JSON lines on stdin and what each socket observes comes back on stdout.
//
// Typical use:
//
//	d := jsclient.Start(t)
//	s := d.Connect(t, stack.URL(), jsclient.Options{Transports: jsclient.WebSocketOnly})
//	s.WaitConnect(t)
//	s.Emit("register", map[string]any{"userId": id, "role": "customer"})
//	args := s.WaitEvent(t, "registered", 5*time.Second, nil)
//
// Wait* and EmitWithAck fail the test (tb.Fatal), so call them from the test
// goroutine. Everything else is safe from any goroutine.
package jsclient

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/infra"
)

// DefaultTimeout bounds WaitConnect, WaitConnectError and WaitDisconnect.
const DefaultTimeout = 20 * time.Second

// Transport selects the client's transports option.
type Transport string

const (
	// Default is the library default: polling first, then upgrade to websocket.
	Default Transport = "default"
	// WebSocketOnly is transports: ["websocket"].
	WebSocketOnly Transport = "websocket"
	// PollingOnly is transports: ["polling"] (HTTP long-polling, never upgrades).
	PollingOnly Transport = "polling"
)

// Transports returns the three transport modes, for table-driven tests
// that must pass on each of them.
func Transports() []Transport { return []Transport{WebSocketOnly, PollingOnly, Default} }

func (t Transport) list() []string {
	switch t {
	case WebSocketOnly:
		return []string{"websocket"}
	case PollingOnly:
		return []string{"polling"}
	default:
		return nil
	}
}

// Options are the io(url, opts) options a test may set. Zero values keep the
// library defaults, except forceNew which is always true (one Manager per
// socket, as separate app screens would have).
type Options struct {
	Transports   Transport
	Path         string            // default "/socket.io/"
	Auth         map[string]any    // handshake auth, e.g. {"token": "..."}
	Query        map[string]string // handshake query string
	Headers      map[string]string // extraHeaders (Node only; browsers cannot set them)
	NoReconnect  bool              // reconnection: false
	ConnectLimit time.Duration     // the library's connect timeout option
}

// Driver is one Node process running test/js/driver.mjs.
type Driver struct {
	tb     testing.TB
	cmd    *exec.Cmd
	exited chan struct{} // closed once stdout hit EOF and the process was reaped
	stderr *lockedBuffer

	writeMu sync.Mutex
	stdin   io.WriteCloser

	mu      sync.Mutex
	sockets map[string]*Socket
	nextID  int
	errs    []string // driver-level error reports (not tied to a socket)
	version string
	ready   chan struct{}
}

// Dir returns the absolute path of test/js.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "js")
}

// Start runs the Node driver and waits until it is ready. It fails the test
// if node or test/js/node_modules is missing (run `make deps`). The process
// is stopped when the test ends; driver-level errors (bad commands) then
// fail the test.
func Start(tb testing.TB) *Driver {
	tb.Helper()
	dir := Dir()
	if _, err := exec.LookPath("node"); err != nil {
		tb.Fatalf("node not found on PATH: install Node.js 18+ and run `make deps`")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client", "package.json")); err != nil {
		tb.Fatalf("test/js/node_modules is missing socket.io-client: run `make deps` (npm ci in test/js)")
	}

	cmd := exec.Command("node", "driver.mjs")
	cmd.Dir = dir
	infra.KillWithParent(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatalf("driver stdin: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatalf("driver stdout: %v", err)
	}
	d := &Driver{
		tb:      tb,
		cmd:     cmd,
		exited:  make(chan struct{}),
		stderr:  &lockedBuffer{},
		stdin:   stdin,
		sockets: map[string]*Socket{},
		ready:   make(chan struct{}),
	}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start node driver: %v", err)
	}
	go d.read(stdout)
	tb.Cleanup(d.close)

	select {
	case <-d.ready:
	case <-d.exited:
		tb.Fatalf("node driver exited before ready: %s", d.stderr.String())
	case <-time.After(DefaultTimeout):
		tb.Fatalf("node driver not ready after %s: %s", DefaultTimeout, d.stderr.String())
	}
	return d
}

// Version returns the socket.io-client version the driver runs.
func (d *Driver) Version() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.version
}

// Connect opens a socket (io(url, opts)) and returns at once; use
// WaitConnect or WaitConnectError for the outcome. url is the origin, e.g.
// "http://127.0.0.1:5000"; a path component selects a namespace.
func (d *Driver) Connect(tb testing.TB, url string, opts Options) *Socket {
	tb.Helper()
	d.mu.Lock()
	d.nextID++
	s := &Socket{d: d, id: "s" + strconv.Itoa(d.nextID), changed: make(chan struct{})}
	d.sockets[s.id] = s
	d.mu.Unlock()

	c := map[string]any{"cmd": "connect", "id": s.id, "url": url, "forceNew": true}
	if t := opts.Transports.list(); t != nil {
		c["transports"] = t
	}
	if opts.Path != "" {
		c["path"] = opts.Path
	}
	if opts.Auth != nil {
		c["auth"] = opts.Auth
	}
	if opts.Query != nil {
		c["query"] = opts.Query
	}
	if opts.Headers != nil {
		c["extraHeaders"] = opts.Headers
	}
	if opts.NoReconnect {
		c["reconnection"] = false
	}
	if opts.ConnectLimit > 0 {
		c["timeout"] = opts.ConnectLimit.Milliseconds()
	}
	if err := d.send(c); err != nil {
		tb.Fatalf("connect %s: %v", s.id, err)
	}
	return s
}

func (d *Driver) send(cmd map[string]any) error {
	line, err := json.Marshal(cmd)
	if err != nil {
		return fmt.Errorf("encode command: %w", err)
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if _, err := d.stdin.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write to node driver: %w (stderr: %s)", err, d.stderr.String())
	}
	return nil
}

// report is one line from the driver.
type report struct {
	Type         string            `json:"type"`
	ID           string            `json:"id"`
	TS           float64           `json:"ts"`
	SID          string            `json:"sid"`
	PID          string            `json:"pid"`
	Transport    string            `json:"transport"`
	Recovered    bool              `json:"recovered"`
	Message      string            `json:"message"`
	Data         json.RawMessage   `json:"data"`
	Reason       string            `json:"reason"`
	Event        string            `json:"event"`
	Args         []json.RawMessage `json:"args"`
	Ref          string            `json:"ref"`
	AckRequested bool              `json:"ackRequested"`
	Attempt      int               `json:"attempt"`
	Version      string            `json:"version"`
}

func (d *Driver) read(stdout io.Reader) {
	defer func() {
		_ = d.cmd.Wait()
		close(d.exited) // wakes every waiter
	}()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		var r report
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			d.addErr(fmt.Sprintf("bad driver output %q: %v", sc.Text(), err))
			continue
		}
		switch {
		case r.Type == "ready":
			d.mu.Lock()
			d.version = r.Version
			d.mu.Unlock()
			close(d.ready)
		case r.Type == "error" && r.ID == "":
			d.addErr(r.Message)
		default:
			d.mu.Lock()
			s := d.sockets[r.ID]
			d.mu.Unlock()
			if s == nil {
				d.addErr(fmt.Sprintf("report for unknown socket %q: %s", r.ID, sc.Text()))
				continue
			}
			s.add(r)
		}
	}
}

func (d *Driver) addErr(msg string) {
	d.mu.Lock()
	d.errs = append(d.errs, msg)
	d.mu.Unlock()
}

func (d *Driver) close() {
	_ = d.send(map[string]any{"cmd": "quit"})
	_ = d.stdin.Close()
	select {
	case <-d.exited:
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.errs {
		d.tb.Errorf("jsclient driver error: %s", e)
	}
}

// Socket is one client socket inside the driver.
type Socket struct {
	d  *Driver
	id string

	mu       sync.Mutex
	reports  []report
	consumed map[int]bool  // indexes already returned by a Wait*
	changed  chan struct{} // closed and replaced on every new report
	acks     int
}

// ID is the driver's name for the socket ("s1", ...), not the Socket.IO id.
func (s *Socket) ID() string { return s.id }

func (s *Socket) add(r report) {
	s.mu.Lock()
	s.reports = append(s.reports, r)
	s.mu.Unlock()
	s.notify()
}

func (s *Socket) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// waitFor returns the first report not yet consumed for which match is
// true, marking it consumed; it fails the test after timeout or when the
// driver died.
func (s *Socket) waitFor(tb testing.TB, what string, timeout time.Duration, match func(report) bool) report {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i, r := range s.reports {
			if !s.consumed[i] && match(r) {
				if s.consumed == nil {
					s.consumed = map[int]bool{}
				}
				s.consumed[i] = true
				s.mu.Unlock()
				return r
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-s.d.exited:
			tb.Fatalf("socket %s: node driver exited while waiting for %s; stderr: %s", s.id, what, s.d.stderr.String())
		case <-deadline.C:
			tb.Fatalf("socket %s: no %s within %s; saw: %s", s.id, what, timeout, s.summary())
		}
	}
}

func (s *Socket) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b bytes.Buffer
	start := max(0, len(s.reports)-20)
	if start > 0 {
		fmt.Fprintf(&b, "(%d earlier) ", start)
	}
	for _, r := range s.reports[start:] {
		switch r.Type {
		case "event":
			fmt.Fprintf(&b, "[event %s %s] ", r.Event, truncate(joinRaw(r.Args), 200))
		case "connect_error":
			fmt.Fprintf(&b, "[connect_error %q] ", r.Message)
		case "disconnect":
			fmt.Fprintf(&b, "[disconnect %s] ", r.Reason)
		case "connect":
			fmt.Fprintf(&b, "[connect %s via %s] ", r.SID, r.Transport)
		default:
			fmt.Fprintf(&b, "[%s] ", r.Type)
		}
	}
	if len(s.reports) == 0 {
		b.WriteString("nothing")
	}
	return b.String()
}

// Connected describes one successful (re)connection.
type Connected struct {
	SID       string // the Socket.IO socket id
	PID       string // the private session id of connection state recovery ("" when off)
	Transport string // "websocket" or "polling" at connect time
	Recovered bool   // connection state recovery restored the session
}

// WaitConnect waits for the next "connect" not returned by an earlier call
// (so after DropTransport a second call waits for the reconnection).
func (s *Socket) WaitConnect(tb testing.TB) Connected {
	tb.Helper()
	r := s.waitFor(tb, "connect", DefaultTimeout, func(r report) bool { return r.Type == "connect" })
	return r.connected()
}

func (r report) connected() Connected {
	return Connected{SID: r.SID, PID: r.PID, Transport: r.Transport, Recovered: r.Recovered}
}

// Connects returns every (re)connection so far, in order, whether or not
// WaitConnect returned them.
func (s *Socket) Connects() []Connected {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Connected
	for _, r := range s.reports {
		if r.Type == "connect" {
			out = append(out, r.connected())
		}
	}
	return out
}

// WaitConnectError waits for the next connect_error and returns its
// message (err.message in JS).
func (s *Socket) WaitConnectError(tb testing.TB) string {
	tb.Helper()
	return s.waitFor(tb, "connect_error", DefaultTimeout, func(r report) bool { return r.Type == "connect_error" }).Message
}

// WaitConnectErrorData is WaitConnectError that also returns err.data.
func (s *Socket) WaitConnectErrorData(tb testing.TB) (string, json.RawMessage) {
	tb.Helper()
	r := s.waitFor(tb, "connect_error", DefaultTimeout, func(r report) bool { return r.Type == "connect_error" })
	return r.Message, r.Data
}

// WaitDisconnect waits for the next "disconnect" and returns its reason
// ("io server disconnect", "transport close", "forced close", ...).
func (s *Socket) WaitDisconnect(tb testing.TB) string {
	tb.Helper()
	return s.waitFor(tb, "disconnect", DefaultTimeout, func(r report) bool { return r.Type == "disconnect" }).Reason
}

// WaitUpgrade waits for the transport upgrade (Default transports) and
// returns the new transport name.
func (s *Socket) WaitUpgrade(tb testing.TB) string {
	tb.Helper()
	return s.waitFor(tb, "upgrade", DefaultTimeout, func(r report) bool { return r.Type == "upgrade" }).Transport
}

// WaitEvent waits up to timeout for an event named event whose args satisfy
// match (nil matches any) and returns its args. Each received event is
// returned at most once, so two calls wait for two occurrences. Events that
// arrived before the call count.
func (s *Socket) WaitEvent(tb testing.TB, event string, timeout time.Duration, match func(args []json.RawMessage) bool) []json.RawMessage {
	tb.Helper()
	return s.waitFor(tb, "event "+strconv.Quote(event), timeout, func(r report) bool {
		return r.Type == "event" && r.Event == event && (match == nil || match(r.Args))
	}).Args
}

// Events returns the args of every event named event received so far, in
// order, whether or not WaitEvent returned them.
func (s *Socket) Events(event string) [][]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]json.RawMessage
	for _, r := range s.reports {
		if r.Type == "event" && r.Event == event {
			out = append(out, r.Args)
		}
	}
	return out
}

// AssertNoEvent waits `within` and asserts that no event named event
// arrived on this socket, during that time or before it. This bounded wait
// is the one place where a test waits a fixed time: proving an absence
// has no other end.
func (s *Socket) AssertNoEvent(tb testing.TB, event string, within time.Duration) {
	tb.Helper()
	deadline := time.After(within)
	for {
		if got := s.Events(event); len(got) > 0 {
			tb.Fatalf("socket %s: got %d unexpected %q event(s), first args %s", s.id, len(got), event, joinRaw(got[0]))
		}
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-s.d.exited:
			tb.Fatalf("socket %s: node driver exited; stderr: %s", s.id, s.d.stderr.String())
		case <-deadline:
			if got := s.Events(event); len(got) > 0 {
				tb.Fatalf("socket %s: got %d unexpected %q event(s), first args %s", s.id, len(got), event, joinRaw(got[0]))
			}
			return
		}
	}
}

// Emit sends an event without an acknowledgement. Args are encoded as JSON;
// a top-level []byte arg, or a Bin at any depth, is sent as binary. Before the socket is
// connected the client library buffers the emit.
func (s *Socket) Emit(event string, args ...any) {
	if err := s.d.send(map[string]any{"cmd": "emit", "id": s.id, "event": event, "args": wireArgs(args)}); err != nil {
		s.d.addErr(err.Error())
	}
}

// EmitWithAck sends an event with an ack callback and waits up to timeout
// for the acknowledgement, returning its args.
func (s *Socket) EmitWithAck(tb testing.TB, timeout time.Duration, event string, args ...any) []json.RawMessage {
	tb.Helper()
	s.mu.Lock()
	s.acks++
	ref := "a" + strconv.Itoa(s.acks)
	s.mu.Unlock()
	if err := s.d.send(map[string]any{"cmd": "emit", "id": s.id, "event": event, "args": wireArgs(args), "ack": ref}); err != nil {
		tb.Fatalf("emit %s: %v", event, err)
	}
	return s.waitFor(tb, "ack of "+strconv.Quote(event), timeout, func(r report) bool {
		return r.Type == "ack" && r.Ref == ref
	}).Args
}

// Errors returns the driver's error reports about this socket (for example
// a command it could not run).
func (s *Socket) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.reports {
		if r.Type == "error" {
			out = append(out, r.Message)
		}
	}
	return out
}

// Disconnect closes the socket from the client side (socket.disconnect()):
// the server sees "client namespace disconnect" and the client does not
// reconnect.
func (s *Socket) Disconnect() {
	if err := s.d.send(map[string]any{"cmd": "disconnect", "id": s.id}); err != nil {
		s.d.addErr(err.Error())
	}
}

// DropTransport closes the Engine.IO connection under the socket as a
// network failure would (socket.io.engine.close()); the client reconnects
// unless NoReconnect was set.
func (s *Socket) DropTransport() {
	if err := s.d.send(map[string]any{"cmd": "close-engine", "id": s.id}); err != nil {
		s.d.addErr(err.Error())
	}
}

// CutTransport drops the Engine.IO connection like DropTransport, and has
// the client try to reconnect only after d: a network cut of that length.
func (s *Socket) CutTransport(d time.Duration) {
	if err := s.d.send(map[string]any{"cmd": "cut", "id": s.id, "ms": d.Milliseconds()}); err != nil {
		s.d.addErr(err.Error())
	}
}

// Bin is binary data in event args: it encodes as {"$bin": base64}, which
// the driver turns into a Buffer.
type Bin []byte

// MarshalJSON implements json.Marshaler.
func (b Bin) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"$bin": base64.StdEncoding.EncodeToString(b)})
}

// DecodeBin returns the bytes of a binary arg received from the server, and
// false if raw is not binary.
func DecodeBin(raw json.RawMessage) ([]byte, bool) {
	var v map[string]string
	if err := json.Unmarshal(raw, &v); err != nil || len(v) != 1 {
		return nil, false
	}
	enc, ok := v["$bin"]
	if !ok {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	return b, err == nil
}

func wireArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if b, ok := a.([]byte); ok {
			a = Bin(b)
		}
		out[i] = a
	}
	return out
}

func joinRaw(args []json.RawMessage) string {
	b, _ := json.Marshal(args)
	return string(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return truncate(b.buf.String(), 4000)
}
