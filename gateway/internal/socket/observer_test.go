package socket

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/auth"
)

// countingObserver records Observer calls: events as "event outcome",
// registrations as a gauge per "role proven".
type countingObserver struct {
	mu         sync.Mutex
	events     map[string]int
	registered map[string]int
}

func (o *countingObserver) ClientEvent(event, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.events == nil {
		o.events = map[string]int{}
	}
	o.events[event+" "+outcome]++
}

func (o *countingObserver) SocketRegistered(role string, proven bool) { o.gauge(role, proven, 1) }

func (o *countingObserver) SocketUnregistered(role string, proven bool) { o.gauge(role, proven, -1) }

func (o *countingObserver) gauge(role string, proven bool, d int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.registered == nil {
		o.registered = map[string]int{}
	}
	o.registered[fmt.Sprintf("%s %v", role, proven)] += d
}

// waitCounts waits until the observer shows want (events are counted just
// after their reply is sent).
func (o *countingObserver) waitCounts(t *testing.T, events, registered map[string]int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		o.mu.Lock()
		ok := true
		for k, v := range events {
			ok = ok && o.events[k] == v
		}
		for k, v := range registered {
			ok = ok && o.registered[k] == v
		}
		got := fmt.Sprintf("events %v, registered %v", o.events, o.registered)
		o.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %s, want events %v, registered %v", got, events, registered)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestObserverCountsEventsAndRegistrations(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	claimed := f.connect(t)
	claimed.register(customerID, "customer")
	f.obs.waitCounts(t, map[string]int{"register ok": 1}, map[string]int{"customer false": 1})

	// A refused re-register drops the earlier registration.
	claimed.register(customerID, "admin")
	claimed.emit("no-such-event")
	claimed.expect("error")
	f.obs.waitCounts(t, map[string]int{"register ok": 1, "register refused": 1, "other invalid": 1},
		map[string]int{"customer false": 0})

	proven, reply := f.dial(t, "", nil, map[string]string{"token": f.token(t, adminID, auth.RoleAdmin)})
	if reply[:3] != "40{" {
		t.Fatalf("got %q, want CONNECT reply", reply)
	}
	proven.register("", "")
	f.obs.waitCounts(t, map[string]int{"register ok": 2}, map[string]int{"admin true": 1})
	_ = proven.conn.Close()
	f.obs.waitCounts(t, nil, map[string]int{"admin true": 0})
}

func TestObserverCountsRateLimited(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{EventRate: 1, EventBurst: 2})
	c := f.connect(t)
	for range 3 {
		c.emit("ping")
	}
	c.expect("pong")
	c.expect("pong")
	c.expect("error")
	f.obs.waitCounts(t, map[string]int{"ping ok": 2, "ping rate_limited": 1}, nil)
}
