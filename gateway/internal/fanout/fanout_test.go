package fanout

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/routing"
	"github.com/friendspizzahut/platform/gateway/internal/sio"
	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/event"
)

// fakeSub hands the handler to the test and blocks until ctx ends, like
// bus.Follow.
type fakeSub struct{ h chan bus.StreamHandler }

func (f *fakeSub) Follow(ctx context.Context, h bus.StreamHandler) error {
	f.h <- h
	<-ctx.Done()
	return nil
}

type sent struct {
	offset        string
	rooms, except []string
	event         string
	payload       any
}

// fakeOut records broadcasts; block (when set) holds the worker to fill the queue.
type fakeOut struct {
	mu    sync.Mutex
	sent  []sent
	block chan struct{}
	got   chan struct{}
}

func (f *fakeOut) BroadcastAt(offset string, rooms, except []string, ev string, payload any) int {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	f.sent = append(f.sent, sent{offset, rooms, except, ev, payload})
	f.mu.Unlock()
	f.got <- struct{}{}
	return len(rooms)
}

func (f *fakeOut) events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.sent {
		out = append(out, s.event)
	}
	return out
}

// start runs a fanout on a fakeSub; the handler it returns feeds a message
// with the next log id ("1-1", "1-2", ...).
func start(t *testing.T, cfg Config, out *fakeOut) (*Fanout, func(msg []byte)) {
	t.Helper()
	sub := &fakeSub{h: make(chan bus.StreamHandler, 1)}
	f := New(cfg, sub, out, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if out.block != nil {
			close(out.block)
		}
		go func() {
			for range out.got { // let the draining worker finish
			}
		}()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	h := <-sub.h
	h("0-0", nil)
	<-f.Ready()
	var n atomic.Int64
	return f, func(msg []byte) { h(fmt.Sprintf("1-%d", n.Add(1)), msg) }
}

func encode(t *testing.T, p event.Payload) (event.Envelope, []byte) {
	t.Helper()
	env, err := event.New(p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return env, b
}

func waitN(t *testing.T, out *fakeOut, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-out.got:
		case <-deadline:
			t.Fatalf("got %d broadcasts, want %d", i, n)
		}
	}
}

func TestRoutesAndBroadcasts(t *testing.T) {
	out := &fakeOut{got: make(chan struct{}, 100)}
	f, h := start(t, Config{}, out)
	_, msg := encode(t, &event.AgentStatus{DeliveryAgentID: "d1", Name: "Dev", IsOnline: true, State: "free"})
	h(msg)
	waitN(t, out, 1)
	out.mu.Lock()
	s := out.sent[0]
	out.mu.Unlock()
	if s.event != "delivery:agent:status:update" || len(s.rooms) != 2 {
		t.Errorf("got %s → %v, want delivery:agent:status:update → [role:admin role:delivery]", s.event, s.rooms)
	}
	waitStats(t, f, func(s Stats) bool { return s.Delivered == 2 && s.Broadcasts == 1 && s.Routed == 1 && s.Received == 1 })
}

func TestDuplicateDeliveredOnce(t *testing.T) {
	out := &fakeOut{got: make(chan struct{}, 100)}
	f, h := start(t, Config{}, out)
	_, a := encode(t, &event.OfferData{OfferID: "o1", Code: "A"})
	_, b := encode(t, &event.OfferData{OfferID: "o2", Code: "B"})
	h(a)
	h(a) // at-least-once: the bus may repeat an envelope
	h(b)
	waitN(t, out, 2)
	waitStats(t, f, func(s Stats) bool { return s.Received == 3 && s.Duplicates == 1 && s.Routed == 2 })
	if got := out.events(); len(got) != 2 {
		t.Errorf("got %v, want 2 offer:new", got)
	}
}

func TestBadEnvelopesDropped(t *testing.T) {
	out := &fakeOut{got: make(chan struct{}, 100)}
	f, h := start(t, Config{}, out)
	h([]byte("not json"))
	h([]byte(`{"v":1,"id":"x1","type":"no.such_type","at":"2026-01-01T00:00:00Z","data":{}}`))
	h([]byte(`{"v":1,"id":"x2","type":"order.status_changed","at":"2026-01-01T00:00:00Z","data":{"orderId":"o"}}`))
	_, ok := encode(t, &event.OfferData{OfferID: "o1", Code: "A"})
	h(ok)
	waitN(t, out, 1)
	waitStats(t, f, func(s Stats) bool { return s.Received == 4 && s.Invalid == 3 && s.Routed == 1 })
}

// TestQueueFullNeverBlocks holds the worker so the queue fills: the receive
// loop must return at once, count the overflow and forget the dropped ids so
// that a replay can still deliver them.
func TestQueueFullNeverBlocks(t *testing.T) {
	out := &fakeOut{got: make(chan struct{}, 100), block: make(chan struct{})}
	f, h := start(t, Config{QueueSize: 2}, out)
	var msgs [][]byte
	for i := range 6 {
		_, m := encode(t, &event.OfferData{OfferID: "o", Code: string(rune('A' + i))})
		msgs = append(msgs, m)
	}
	returned := make(chan struct{})
	go func() {
		for _, m := range msgs {
			h(m)
		}
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("handler blocked on a full queue")
	}
	// 1 taken by the blocked worker (at most), 2 queued, the rest overflow.
	st := f.Stats()
	if st.Overflow < 3 || st.Overflow > 4 {
		t.Errorf("got overflow %d, want 3 or 4", st.Overflow)
	}
	if f.seen.len() != int(st.Received-st.Overflow) {
		t.Errorf("got %d remembered ids, want %d (dropped ids forgotten)", f.seen.len(), st.Received-st.Overflow)
	}
}

func waitStats(t *testing.T, f *Fanout, ok func(Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok(f.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("stats never matched: %+v", f.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSeenSetBounds(t *testing.T) {
	t0 := time.Unix(1000, 0)
	cases := map[string]struct {
		steps []step
	}{
		"duplicate":                            {[]step{{"a", 0, true}, {"a", 1, false}}},
		"ttl expiry":                           {[]step{{"a", 0, true}, {"a", 9, false}, {"a", 10, true}}},
		"size eviction":                        {[]step{{"a", 0, true}, {"b", 0, true}, {"c", 0, true}, {"a", 0, true}, {"c", 0, false}}},
		"re-add after evict keeps newer entry": {[]step{{"a", 0, true}, {"b", 1, true}, {"c", 2, true}, {"d", 3, true}, {"a", 4, true}, {"a", 5, false}, {"b", 5, true}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := newSeenSet(3, 10*time.Second)
			if name == "size eviction" {
				s = newSeenSet(2, time.Hour)
			}
			for i, st := range c.steps {
				if got := s.add(st.id, t0.Add(time.Duration(st.sec)*time.Second)); got != st.isNew {
					t.Fatalf("step %d add(%s@%ds): got %v, want %v", i, st.id, st.sec, got, st.isNew)
				}
			}
			if s.len() > len(s.ring) {
				t.Errorf("got %d ids, want ≤ %d", s.len(), len(s.ring))
			}
		})
	}
}

type step struct {
	id    string
	sec   int
	isNew bool
}

func TestSeenSetForget(t *testing.T) {
	s := newSeenSet(2, time.Hour)
	now := time.Unix(0, 0)
	s.add("a", now)
	s.forget("a")
	if !s.add("a", now) {
		t.Fatal("forgotten id not new again")
	}
	// The stale ring entry of the first "a" must not evict the second one.
	s.add("b", now)
	if s.add("a", now) {
		t.Error("id re-added after forget was lost to a stale entry")
	}
}

func TestRunTwice(t *testing.T) {
	out := &fakeOut{got: make(chan struct{}, 1)}
	f, _ := start(t, Config{}, out)
	if err := f.Run(context.Background()); err == nil {
		t.Error("second Run: got nil, want error")
	}
}

// TestEveryoneRoomIsSIOs: business:status:update targets routing's
// "everyone" room, which the socket layer must join every socket to.
func TestEveryoneRoomIsSIOs(t *testing.T) {
	if routing.RoomEveryone != sio.RoomAll {
		t.Errorf("routing.RoomEveryone = %q, sio.RoomAll = %q: want the same room", routing.RoomEveryone, sio.RoomAll)
	}
}

var _ Broadcaster = (*sio.Server)(nil)
