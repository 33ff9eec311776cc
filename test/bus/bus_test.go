// Package bus_test checks shared/bus against a real redis-server: delivery,
// publish errors while Redis is down, and the replay that covers the gap
// while a subscriber resubscribes after a Redis restart.
package bus_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/infra"
)

// collector records the ids of envelopes a subscriber received.
type collector struct {
	mu  sync.Mutex
	ids []string
}

func (c *collector) handle(msg []byte) {
	env, _, err := event.Decode(msg)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.ids = append(c.ids, env.ID)
	c.mu.Unlock()
}

func (c *collector) has(ids ...string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	for _, id := range c.ids {
		seen[id] = true
	}
	for _, id := range ids {
		if !seen[id] {
			return false
		}
	}
	return true
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newBus(t *testing.T, url string) *bus.Bus {
	t.Helper()
	b, err := bus.New(bus.Config{URL: url, Channel: "test:events", MaxBackoff: 200 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func envelope(t *testing.T, n int) event.Envelope {
	t.Helper()
	env, err := event.New(&event.OrderStatusChangedData{OrderID: "o1", CustomerID: "c1", Status: "accepted", Message: string(rune('a' + n%26))}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// subscribe runs Subscribe until the test ends and returns once subscribed.
func subscribe(t *testing.T, b *bus.Bus, c *collector) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Subscribe(ctx, c.handle) }()
	t.Cleanup(func() { cancel(); <-done })
	// A probe event tells us the subscription is live.
	probe := envelope(t, 0)
	waitFor(t, "subscription", func() bool {
		_ = b.Publish(context.Background(), probe)
		return c.has(probe.ID)
	})
}

func TestPublishSubscribe(t *testing.T) {
	r := infra.StartRedis(t)
	b := newBus(t, r.URL())
	c := &collector{}
	subscribe(t, b, c)

	var ids []string
	for i := range 50 {
		env := envelope(t, i)
		if err := b.Publish(context.Background(), env); err != nil {
			t.Fatalf("publish: %v", err)
		}
		ids = append(ids, env.ID)
	}
	waitFor(t, "50 events", func() bool { return c.has(ids...) })
}

func TestPublishFailsWhileRedisIsDown(t *testing.T) {
	r := infra.StartRedis(t)
	b := newBus(t, r.URL())
	r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Publish(ctx, envelope(t, 1)); err == nil {
		t.Fatal("publish succeeded with Redis down; want an error so the outbox keeps the event")
	}
}

func TestEventsPublishedRightAfterARestartArrive(t *testing.T) {
	r := infra.StartRedis(t)
	pub := newBus(t, r.URL())
	sub := newBus(t, r.URL())
	c := &collector{}
	subscribe(t, sub, c)

	r.Restart(t)
	// Publish as soon as Redis answers again, most likely before the
	// subscriber's backoff has let it resubscribe: only the replay log can
	// deliver these.
	var ids []string
	deadline := time.Now().Add(10 * time.Second)
	for len(ids) < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("could publish only %d events after the restart", len(ids))
		}
		env := envelope(t, len(ids))
		if err := pub.Publish(context.Background(), env); err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		ids = append(ids, env.ID)
	}
	waitFor(t, "events published around the restart", func() bool { return c.has(ids...) })
}
