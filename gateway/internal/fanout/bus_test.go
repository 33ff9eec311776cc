package fanout

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/routing"
	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/infra"
)

// These tests run the fanout on the real bus against a real redis-server.
// The sockets side is a recorder; test/events covers real sockets.

// recorder counts order:status:changed deliveries per order id.
type recorder struct {
	mu     sync.Mutex
	counts map[string]int
	added  chan struct{}
}

func newRecorder() *recorder {
	return &recorder{counts: map[string]int{}, added: make(chan struct{}, 1)}
}

func (r *recorder) BroadcastAt(_ string, _, _ []string, ev string, payload any) int {
	if ev != routing.EvOrderStatusChanged {
		return 0
	}
	r.mu.Lock()
	r.counts[payload.(routing.OrderStatusUpdate).OrderID]++
	r.mu.Unlock()
	select {
	case r.added <- struct{}{}:
	default:
	}
	return 1
}

// waitFor waits until id has been delivered, or fails at the deadline.
func (r *recorder) waitFor(t *testing.T, id string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		r.mu.Lock()
		n := r.counts[id]
		r.mu.Unlock()
		if n > 0 {
			return
		}
		select {
		case <-r.added:
		case <-deadline:
			t.Fatalf("%s never delivered", id)
		}
	}
}

func startBusFanout(t *testing.T, url string, out Broadcaster) *bus.Bus {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	sub, err := bus.New(bus.Config{URL: url}, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := New(Config{}, sub, out, logger)
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
		_ = sub.Close()
	})
	pub, err := bus.New(bus.Config{URL: url}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	select {
	case <-f.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("fanout never started following the log")
	}
	return pub
}

func statusEnvelope(t *testing.T, orderID string) event.Envelope {
	t.Helper()
	env, err := event.New(&event.OrderStatusChangedData{OrderID: orderID, OrderNumber: orderID, CustomerID: "c1", Status: "accepted"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// publishRetrying publishes like the outbox relay: until Redis takes it.
func publishRetrying(ctx context.Context, b *bus.Bus, env event.Envelope) error {
	for {
		err := b.Publish(ctx, env)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestRedisRestartMidStream restarts redis-server while a stream of events
// is being published: every event arrives exactly once (the fanout reads the
// log and resumes after the last entry it saw).
func TestRedisRestartMidStream(t *testing.T) {
	r := infra.StartRedis(t)
	rec := newRecorder()
	pub := startBusFanout(t, r.URL(), rec)

	const n = 200
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	halfway := make(chan struct{})
	pubErr := make(chan error, 1)
	go func() {
		for i := range n {
			if i == n/2 {
				close(halfway)
			}
			if err := publishRetrying(ctx, pub, statusEnvelope(t, fmt.Sprintf("o%03d", i))); err != nil {
				pubErr <- err
				return
			}
		}
		pubErr <- nil
	}()
	<-halfway
	r.Restart(t)
	if err := <-pubErr; err != nil {
		t.Fatalf("publish: %v", err)
	}
	for i := range n {
		rec.waitFor(t, fmt.Sprintf("o%03d", i), 30*time.Second)
	}
	// A sentinel after everything: replays are handled before live messages,
	// so once it is in, any duplicate would have been delivered already.
	if err := publishRetrying(ctx, pub, statusEnvelope(t, "sentinel")); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "sentinel", 30*time.Second)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for id, c := range rec.counts {
		if c != 1 {
			t.Errorf("%s delivered %d times, want 1", id, c)
		}
	}
}

// TestSameEnvelopeTwiceDeliveredOnce publishes one envelope (same id) twice.
func TestSameEnvelopeTwiceDeliveredOnce(t *testing.T) {
	r := infra.StartRedis(t)
	rec := newRecorder()
	pub := startBusFanout(t, r.URL(), rec)
	ctx := context.Background()
	env := statusEnvelope(t, "twice")
	for range 2 {
		if err := pub.Publish(ctx, env); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Publish(ctx, statusEnvelope(t, "sentinel")); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "sentinel", 10*time.Second)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if c := rec.counts["twice"]; c != 1 {
		t.Errorf("got %d deliveries, want 1", c)
	}
}
