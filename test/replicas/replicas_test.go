// Package replicas holds the fault tests of issue 12: gateway replicas act
// as one. Real processes (test/harness: redis-server, FerretDB, orderapi,
// two gateways, the round-robin front proxy), the real socket.io-client 4.8
// (test/jsclient), and a steady stream of order-platform events made
// through orderapi's REST API (business status changes, which reach every
// socket). Each event carries its offset in the bus's replay log as its
// last argument, so every socket's received offsets can be compared with
// the log itself: nothing lost, nothing twice, in order.
package replicas

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/testapi"
)

// window is the stack's GATEWAY_RECOVERY_WINDOW: longer than the 5 s cut,
// short enough to wait out.
const window = 8 * time.Second

var shared = testapi.NewShared(harness.Options{Gateways: 2, GatewayEnv: map[string]string{
	"GATEWAY_RECOVERY_WINDOW": window.String(),
	"GATEWAY_DRAIN_WINDOW":    "2s",
	"LOG_LEVEL":               "info", // a thousand sockets at debug would swamp the logs
}})

func TestMain(m *testing.M) { os.Exit(shared.Run(m)) }

const evBusiness = "business:status:update"

// stream changes the business status through orderapi every `every` until
// stopped; each change is one business:status:update to every socket.
type stream struct {
	e     *testapi.Env
	ticks atomic.Int64
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	errs  []string
}

func startStream(t *testing.T, e *testapi.Env, every time.Duration) *stream {
	s := &stream{e: e, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for i := 0; ; i++ {
			if err := s.tick("tick-" + strconv.Itoa(i)); err != nil {
				s.mu.Lock()
				s.errs = append(s.errs, err.Error())
				s.mu.Unlock()
			}
			s.ticks.Add(1)
			select {
			case <-s.stop:
				return
			case <-time.After(every):
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-s.stop:
		default:
			close(s.stop)
		}
		<-s.done
	})
	return s
}

func (s *stream) tick(msg string) error {
	body, _ := json.Marshal(map[string]any{"isOpen": s.ticks.Load()%2 == 0, "message": msg})
	req, _ := http.NewRequest(http.MethodPatch, s.e.Stack.URL()+"/api/v1/business/status", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.e.Admin.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("PATCH business status: %d %s", resp.StatusCode, b)
	}
	return nil
}

// waitTicks waits until n more changes were made.
func (s *stream) waitTicks(t *testing.T, n int64) {
	t.Helper()
	target := s.ticks.Load() + n
	deadline := time.Now().Add(60 * time.Second)
	for s.ticks.Load() < target {
		if time.Now().After(deadline) {
			t.Fatalf("stream stalled at %d ticks", s.ticks.Load())
		}
		time.Sleep(20 * time.Millisecond) // polling a counter, not asserting after a sleep
	}
}

// finish stops the stream and makes one last change, "final", that every
// socket waits for: once it is in, everything before it is too.
func (s *stream) finish(t *testing.T) {
	t.Helper()
	close(s.stop)
	<-s.done
	if err := s.tick("final"); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.errs {
		t.Errorf("stream: %s", e)
	}
}

// logBus reads the stack's replay log.
func logBus(t *testing.T, e *testapi.Env) *bus.Bus {
	t.Helper()
	b, err := bus.New(bus.Config{URL: e.Stack.RedisURL}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func lastID(t *testing.T, b *bus.Bus) string {
	t.Helper()
	id, err := b.LastID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// loggedOffsets returns the log ids of the business status changes after
// `after`: what every socket must have received, in this order.
func loggedOffsets(t *testing.T, b *bus.Bus, after string) []string {
	t.Helper()
	entries, err := b.Range(context.Background(), after, "", 100000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		env, _, err := event.Decode(e.Msg)
		if err == nil && env.Type == event.BusinessStatusChanged {
			out = append(out, e.ID)
		}
	}
	return out
}

// receivedOffsets returns the offsets (last argument) of the business
// status changes a socket received, in arrival order.
func receivedOffsets(t *testing.T, s *jsclient.Socket) []string {
	t.Helper()
	var out []string
	for _, args := range s.Events(evBusiness) {
		var off string
		if len(args) < 2 || json.Unmarshal(args[len(args)-1], &off) != nil {
			t.Fatalf("socket %s: %s without an offset as last argument: %s", s.ID(), evBusiness, args)
		}
		out = append(out, off)
	}
	return out
}

func isMessage(msg string) func([]json.RawMessage) bool {
	return func(args []json.RawMessage) bool {
		var p struct{ Message string }
		return len(args) > 0 && json.Unmarshal(args[0], &p) == nil && p.Message == msg
	}
}

// checkExactlyOnce compares what each socket got with the log; it reports
// the first few sockets that differ and how.
func checkExactlyOnce(t *testing.T, socks []*jsclient.Socket, want []string) {
	t.Helper()
	bad := 0
	for _, s := range socks {
		got := receivedOffsets(t, s)
		if slices.Equal(got, want) {
			continue
		}
		bad++
		if bad <= 5 {
			seen := map[string]int{}
			for _, o := range got {
				seen[o]++
			}
			lost, dup := 0, 0
			for _, o := range want {
				if seen[o] == 0 {
					lost++
				}
			}
			for _, n := range seen {
				if n > 1 {
					dup += n - 1
				}
			}
			t.Errorf("socket %s: got %d events, want %d: %d lost, %d duplicated, in order %v; connects %+v",
				s.ID(), len(got), len(want), lost, dup, slices.IsSortedFunc(got, cmpOffset), s.Connects())
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d sockets did not get every event exactly once, in order", bad, len(socks))
	}
}

func cmpOffset(a, b string) int {
	var am, as, bm, bs uint64
	fmt.Sscanf(a, "%d-%d", &am, &as)
	fmt.Sscanf(b, "%d-%d", &bm, &bs)
	switch {
	case am != bm:
		return cmpU(am, bm)
	default:
		return cmpU(as, bs)
	}
}

func cmpU(a, b uint64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// sockets asks a gateway's /healthz how many sockets it holds.
func sockets(t *testing.T, e *testapi.Env, gw int) int {
	t.Helper()
	resp, err := http.Get(e.Stack.GatewayURL(gw) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct{ Sockets int }
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Sockets
}

const fleet = 1000

// bothServing waits until the front proxy hands new sessions to both
// replicas again: after a replica restarts (the previous test), the proxy
// skips it for a while because it refused connections while down.
func bothServing(t *testing.T, e *testapi.Env) {
	t.Helper()
	seen := map[string]bool{}
	for deadline := time.Now().Add(15 * time.Second); len(seen) < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("the proxy hands sessions to %d replica(s), want 2", len(seen))
		}
		resp, err := http.Get(e.Stack.URL() + "/socket.io/?EIO=4&transport=polling")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		var open struct{ SID string }
		if len(body) > 1 && json.Unmarshal(body[1:], &open) == nil {
			if id, _, ok := strings.Cut(open.SID, "."); ok {
				seen[id] = true
			}
		}
		time.Sleep(100 * time.Millisecond) // polling a condition
	}
}

// faultMidStream connects a thousand sockets through the round-robin
// proxy, starts the stream, takes gateway 0 down with stop mid-stream,
// and checks that every socket of that replica came back recovered and
// every socket got every event exactly once, in order. Gateway 0 is
// started again at the end.
func faultMidStream(t *testing.T, stop func(st *harness.Stack)) {
	e := shared.Env(t)
	js := jsclient.Start(t)
	b := logBus(t, e)
	from := lastID(t, b)
	bothServing(t, e)

	socks := make([]*jsclient.Socket, fleet)
	for i := range socks {
		socks[i] = js.Connect(t, e.Stack.URL(), jsclient.Options{Transports: jsclient.WebSocketOnly})
	}
	for _, s := range socks {
		s.WaitConnect(t)
	}
	n0, n1 := sockets(t, e, 0), sockets(t, e, 1)
	if n0 < fleet/4 || n1 < fleet/4 {
		t.Fatalf("sockets per replica %d/%d: want both well used", n0, n1)
	}

	str := startStream(t, e, 100*time.Millisecond)
	str.waitTicks(t, 5)
	start := time.Now()
	stop(e.Stack)
	t.Logf("replica 0 (%d sockets) down after %s", n0, time.Since(start).Round(time.Millisecond))
	str.waitTicks(t, 10)
	str.finish(t)
	for _, s := range socks {
		s.WaitEvent(t, evBusiness, 60*time.Second, isMessage("final"))
	}
	t.Logf("all %d sockets had the final event %s after the fault", fleet, time.Since(start).Round(time.Millisecond))
	want := loggedOffsets(t, b, from)
	if len(want) < 16 {
		t.Fatalf("only %d events in the log", len(want))
	}
	checkExactlyOnce(t, socks, want)

	moved := 0
	for _, s := range socks {
		cs := s.Connects()
		for _, c := range cs[1:] {
			if !c.Recovered || c.SID != cs[0].SID {
				t.Errorf("socket %s: reconnected without recovering: %+v", s.ID(), cs)
				break
			}
		}
		if len(cs) > 1 {
			moved++
		}
	}
	if moved < n0*9/10 {
		t.Errorf("%d sockets reconnected, want about the %d of replica 0", moved, n0)
	}
	t.Logf("%d sockets moved and recovered; %d events each, none lost or repeated", moved, len(want))
	for _, s := range socks {
		s.Disconnect()
	}
	e.Stack.StartGateway(t, 0, nil)
}

func TestSIGTERMMidStream(t *testing.T) {
	faultMidStream(t, func(st *harness.Stack) { st.StopGateway(0) })
}

func TestSIGKILLMidStream(t *testing.T) {
	faultMidStream(t, func(st *harness.Stack) { st.KillGateway(0) })
}

// TestTransportCut: one client's transport is cut for 5 s; it comes back
// recovered and gets the events it missed once, in order.
func TestTransportCut(t *testing.T) {
	e := shared.Env(t)
	js := jsclient.Start(t)
	b := logBus(t, e)
	from := lastID(t, b)
	s := js.Connect(t, e.Stack.URL(), jsclient.Options{Transports: jsclient.WebSocketOnly})
	t.Cleanup(s.Disconnect)
	first := s.WaitConnect(t)

	str := startStream(t, e, 100*time.Millisecond)
	str.waitTicks(t, 5)
	s.CutTransport(5 * time.Second)
	cut := time.Now()
	s.WaitDisconnect(t)
	again := s.WaitConnect(t)
	away := time.Since(cut)
	if !again.Recovered || again.SID != first.SID {
		t.Fatalf("after the cut: %+v, want recovered with sid %s", again, first.SID)
	}
	str.waitTicks(t, 5)
	str.finish(t)
	s.WaitEvent(t, evBusiness, 30*time.Second, isMessage("final"))
	want := loggedOffsets(t, b, from)
	checkExactlyOnce(t, []*jsclient.Socket{s}, want)
	if away < 4500*time.Millisecond {
		t.Errorf("client was away %s, want the 5s cut", away)
	}
	t.Logf("away %s, %d events, none lost or repeated", away.Round(time.Millisecond), len(want))
}

// TestPollingRoundRobin: polling-only clients through the round-robin
// proxy, so about half of each session's requests reach the replica that
// does not hold it and are forwarded; everything is delivered.
func TestPollingRoundRobin(t *testing.T) {
	e := shared.Env(t)
	js := jsclient.Start(t)
	b := logBus(t, e)
	from := lastID(t, b)
	var socks []*jsclient.Socket
	for range 20 {
		s := js.Connect(t, e.Stack.URL(), jsclient.Options{Transports: jsclient.PollingOnly})
		t.Cleanup(s.Disconnect)
		socks = append(socks, s)
	}
	for _, s := range socks {
		if c := s.WaitConnect(t); c.Transport != "polling" {
			t.Fatalf("transport %s, want polling", c.Transport)
		}
	}
	str := startStream(t, e, 50*time.Millisecond)
	str.waitTicks(t, 30)
	str.finish(t)
	for _, s := range socks {
		s.WaitEvent(t, evBusiness, 30*time.Second, isMessage("final"))
	}
	checkExactlyOnce(t, socks, loggedOffsets(t, b, from))
	for _, s := range socks {
		if cs := s.Connects(); len(cs) != 1 {
			t.Errorf("socket %s reconnected: %+v (a request reached the wrong replica?)", s.ID(), cs)
		}
	}
}

// TestRecoveryRefused: another user's token, a forged pid, and the window
// passed all get a new session; the session's own user within the window
// gets it back (so the refusals are not an accident).
func TestRecoveryRefused(t *testing.T) {
	e := shared.Env(t)
	js := jsclient.Start(t)
	alice := e.API.RegisterCustomer(t, "Alice")
	mallory := e.API.RegisterCustomer(t, "Mallory")

	a := js.Connect(t, e.Stack.URL(), jsclient.Options{Transports: jsclient.WebSocketOnly, NoReconnect: true,
		Auth: map[string]any{"token": alice.Token}})
	orig := a.WaitConnect(t)
	if len(orig.PID) < 22 { // 128 bits in base64
		t.Fatalf("CONNECT reply pid %q: want at least 128 random bits", orig.PID)
	}
	a.DropTransport()
	a.WaitDisconnect(t)

	try := func(name string, auth map[string]any) jsclient.Connected {
		t.Helper()
		s := js.Connect(t, e.Stack.URL(), jsclient.Options{Transports: jsclient.WebSocketOnly, NoReconnect: true, Auth: auth})
		c := s.WaitConnect(t)
		s.DropTransport()
		s.WaitDisconnect(t)
		t.Logf("%s: sid %s", name, c.SID)
		return c
	}
	flip := "A"
	if orig.PID[len(orig.PID)-1] == 'A' {
		flip = "B"
	}
	forged := orig.PID[:len(orig.PID)-1] + flip
	for name, auth := range map[string]map[string]any{
		"another user's token":         {"token": mallory.Token, "pid": orig.PID},
		"forged pid":                   {"token": alice.Token, "pid": forged},
		"no token for a token session": {"pid": orig.PID},
	} {
		if c := try(name, auth); c.SID == orig.SID || c.PID == orig.PID {
			t.Errorf("%s: recovered the session (%+v)", name, c)
		}
	}
	back := try("same user", map[string]any{"token": alice.Token, "pid": orig.PID})
	if back.SID != orig.SID || back.PID != orig.PID {
		t.Fatalf("same user within the window: %+v, want the session %s back", back, orig.SID)
	}
	time.Sleep(window + time.Second) // waiting out the window is the point here
	if c := try("after the window", map[string]any{"token": alice.Token, "pid": orig.PID}); c.SID == orig.SID {
		t.Errorf("after the window: recovered the session (%+v)", c)
	}
}
