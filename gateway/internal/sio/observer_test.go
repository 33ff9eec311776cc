package sio

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingObserver records every Observer call as a string.
type countingObserver struct {
	mu    sync.Mutex
	calls map[string]int
}

func (o *countingObserver) add(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.calls == nil {
		o.calls = map[string]int{}
	}
	o.calls[fmt.Sprintf(format, args...)]++
}

func (o *countingObserver) count(call string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls[call]
}

func (o *countingObserver) ConnOpened(t string)          { o.add("open %s", t) }
func (o *countingObserver) ConnUpgraded(from, to string) { o.add("upgrade %s %s", from, to) }
func (o *countingObserver) ConnClosed(t string)          { o.add("close %s", t) }
func (o *countingObserver) SocketConnected()             { o.add("connected") }
func (o *countingObserver) SocketDisconnected(r DisconnectReason) {
	o.add("disconnected %s", r)
}
func (o *countingObserver) SocketRefused(r string) { o.add("refused %s", r) }
func (o *countingObserver) QueueDropped()          { o.add("drop") }
func (o *countingObserver) SlowSocketCut()         { o.add("cut") }

func TestObserverSeesASlowSocketsLife(t *testing.T) {
	t.Parallel()
	obs := &countingObserver{}
	ts := newTestServer(t, Config{MaxQueue: 5, Observer: obs}, nil)
	c := ts.dial(t, nil)
	c.connect("/")
	if obs.count("open websocket") != 1 || obs.count("connected") != 1 {
		t.Fatalf("after connect: got %v, want one websocket opened and one socket connected", obs.calls)
	}
	big := strings.Repeat("x", 1<<16)
	for range 200 {
		ts.srv.Broadcast([]string{RoomAll}, nil, "big", big)
	}
	select {
	case <-ts.gone: // the session hears of it after the observer
	case <-time.After(10 * time.Second):
		t.Fatal("slow socket not cut")
	}
	for call, want := range map[string]int{"cut": 1, "disconnected slow consumer": 1, "close websocket": 1} {
		if got := obs.count(call); got != want {
			t.Errorf("%q: got %d, want %d (all: %v)", call, got, want, obs.calls)
		}
	}
	// Queue drops are counted only when the engine's packet bound cut it;
	// a busy machine's writers may keep the queue short until the network
	// buffer's bound cuts it instead, so the count is not checked here
	// (eio's tests cover both bounds).
}

func TestObserverSeesRefusals(t *testing.T) {
	t.Parallel()
	obs := &countingObserver{}
	ts := newTestServer(t, Config{Observer: obs}, func(s *Socket) (Session, error) {
		if strings.Contains(string(s.Handshake().Auth), "bad") {
			return nil, &ConnectError{Message: "Invalid token.", Reason: "invalid_token"}
		}
		return nil, &ConnectError{Message: "no reason given"}
	})
	c := ts.dial(t, nil)
	c.connect("/nowhere")
	c.send(`40{"token":"bad"}`)
	c.read()
	c.send(`40{}`)
	c.read()
	for call, want := range map[string]int{"refused invalid_namespace": 1, "refused invalid_token": 1, "refused other": 1, "connected": 0} {
		if got := obs.count(call); got != want {
			t.Errorf("%q: got %d, want %d (all: %v)", call, got, want, obs.calls)
		}
	}
}
