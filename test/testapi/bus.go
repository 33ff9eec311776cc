package testapi

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/jsclient"
)

// Publisher publishes domain events on a stack's bus exactly as orderapi's
// outbox relay does (shared/bus: the real contract between the services),
// for event types and moments a test wants to control.
type Publisher struct {
	bus *bus.Bus
}

// NewPublisher connects to the bus at redisURL (default channel) and
// closes the connection when tb ends.
func NewPublisher(tb testing.TB, redisURL string) *Publisher {
	tb.Helper()
	b, err := bus.New(bus.Config{URL: redisURL}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatalf("bus: %v", err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	return &Publisher{bus: b}
}

// Client returns the underlying bus client (e.g. to retry a Publish while
// Redis restarts).
func (p *Publisher) Client() *bus.Bus { return p.bus }

// atBase lies an hour before the process started, and NextAt counts up
// from it: envelope times (which payloads carry as timestamp) are unique to
// the millisecond within the process and never equal the time of an event
// orderapi publishes for real, so a socket's events of one envelope can be
// told from all others by their timestamp.
var (
	atBase = time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	atSeq  atomic.Int64
)

// NextAt returns a fresh envelope time (see atBase).
func NextAt() time.Time { return atBase.Add(time.Duration(atSeq.Add(1)) * time.Millisecond) }

// ISO formats t like the timestamp field of socket payloads.
func ISO(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Publish wraps payload in a fresh envelope (NextAt) and publishes it.
func (p *Publisher) Publish(tb testing.TB, payload event.Payload) event.Envelope {
	tb.Helper()
	env, err := event.New(payload, NextAt())
	if err != nil {
		tb.Fatalf("event.New: %v", err)
	}
	p.PublishEnvelope(tb, env)
	return env
}

// PublishEnvelope publishes env as it is (same id: a redelivery).
func (p *Publisher) PublishEnvelope(tb testing.TB, env event.Envelope) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.bus.Publish(ctx, env); err != nil {
		tb.Fatalf("publish %s: %v", env.Type, err)
	}
}

// Barrier publishes an event every socket receives (business:status:update
// to everyone) and waits until each of socks has it. Each replica routes in
// publish order and each socket's queue is FIFO, so afterwards every event
// published before the barrier has reached these sockets, or never will:
// negative checks need no fixed sleep.
func (p *Publisher) Barrier(tb testing.TB, socks ...*jsclient.Socket) {
	tb.Helper()
	env := p.Publish(tb, &event.BusinessStatus{IsOpen: true, BusinessName: "barrier"})
	ts := ISO(env.At)
	for _, s := range socks {
		s.WaitEvent(tb, "business:status:update", barrierWait, FieldIs("timestamp", ts))
	}
}

const barrierWait = 20 * time.Second
