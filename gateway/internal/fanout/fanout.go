// Package fanout delivers domain events from the bus to the local sockets of
// this gateway replica: bus subscription → decode → dedupe on the envelope
// id → bounded queue → one worker that routes (routing.Table) and broadcasts.
//
// The bus handler runs on the Redis receive loop, so it only decodes,
// dedupes and enqueues; it never waits for a socket. Routing and Broadcast
// run on the worker. One worker keeps events in publish order, which keeps
// an order's status changes in order on every socket.
package fanout

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/routing"
	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/bus/logid"
	"github.com/friendspizzahut/platform/shared/event"
)

// Subscriber feeds envelopes as they are published, with their ids in the
// bus's replay log, to h until ctx ends (*bus.Bus); first it calls h once
// with a nil message and the id it starts after.
type Subscriber interface {
	Follow(ctx context.Context, h bus.StreamHandler) error
}

var _ Subscriber = (*bus.Bus)(nil)

// Broadcaster sends event once to every local socket in the union of rooms
// and in none of except, and returns how many sockets it reached; offset is
// the event's id in the replay log, which clients quote back to recover. It
// must not block on slow sockets and must be safe from any goroutine
// (*sio.Server).
type Broadcaster interface {
	BroadcastAt(offset string, rooms, except []string, event string, payload any) int
}

// Config tunes a Fanout; zero values mean the defaults.
type Config struct {
	DedupeSize int           // ids remembered for dedupe; default 50000
	DedupeTTL  time.Duration // how long an id is remembered; default 10m
	QueueSize  int           // decoded events waiting for the worker; default 16384
	// OnDelivered, if set, runs on the worker after each Broadcast that
	// reached sockets, with the time from the envelope's at to the frames
	// being queued on every socket (metrics). It must be quick.
	OnDelivered func(socketEvent string, sockets int, lag time.Duration)
}

func (c *Config) defaults() {
	if c.DedupeSize <= 0 {
		c.DedupeSize = 50_000
	}
	if c.DedupeTTL <= 0 {
		c.DedupeTTL = 10 * time.Minute
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 16_384
	}
}

// Stats are the Fanout's counters since New.
type Stats struct {
	Received   uint64 // messages from the bus
	Invalid    uint64 // envelopes that did not decode; dropped
	Duplicates uint64 // ids already seen; dropped
	Overflow   uint64 // dropped because the queue was full (should stay 0)
	Routed     uint64 // distinct events routed by the worker
	Broadcasts uint64 // Broadcast calls (one per matrix row that fired)
	Delivered  uint64 // socket deliveries: the sum of Broadcast results
}

// LogValue lets a Stats be logged as one group.
func (s Stats) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Uint64("received", s.Received), slog.Uint64("invalid", s.Invalid),
		slog.Uint64("duplicates", s.Duplicates), slog.Uint64("overflow", s.Overflow),
		slog.Uint64("routed", s.Routed), slog.Uint64("broadcasts", s.Broadcasts),
		slog.Uint64("delivered", s.Delivered),
	)
}

type job struct {
	offset  string
	env     event.Envelope
	payload event.Payload
}

// Fanout is the bus → sockets pipeline of one gateway replica.
type Fanout struct {
	cfg    Config
	sub    Subscriber
	out    Broadcaster
	logger *slog.Logger
	table  *routing.Table
	seen   *seenSet
	queue  chan job
	now    func() time.Time
	ran    atomic.Bool

	// mu is held while one event is delivered, so Sync sees the sockets
	// between two whole events; pos is the log id of the last one.
	mu    sync.Mutex
	pos   string
	ready chan struct{} // closed once pos is known

	received, invalid, duplicates, overflow atomic.Uint64
	routed, broadcasts, delivered           atomic.Uint64
}

// New builds a Fanout; nothing runs until Run.
func New(cfg Config, sub Subscriber, out Broadcaster, logger *slog.Logger) *Fanout {
	cfg.defaults()
	return &Fanout{
		cfg: cfg, sub: sub, out: out, logger: logger,
		table: routing.New(),
		seen:  newSeenSet(cfg.DedupeSize, cfg.DedupeTTL),
		queue: make(chan job, cfg.QueueSize),
		now:   time.Now,
		ready: make(chan struct{}),
	}
}

// Run subscribes and delivers until ctx ends, then lets the worker finish
// what is queued (Broadcast never blocks, so that is quick) and returns the
// subscriber's error (nil on cancellation). Run may be called once.
func (f *Fanout) Run(ctx context.Context) error {
	if !f.ran.CompareAndSwap(false, true) {
		return errors.New("fanout: Run called twice")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for j := range f.queue {
			f.deliver(j)
		}
	}()
	err := f.sub.Follow(ctx, f.receive)
	// Subscribe has returned, so receive is no longer called: safe to close.
	close(f.queue)
	<-done
	f.logger.Info("fanout stopped", "stats", f.Stats())
	return err
}

// Stats returns the counters; safe from any goroutine.
func (f *Fanout) Stats() Stats {
	return Stats{
		Received: f.received.Load(), Invalid: f.invalid.Load(), Duplicates: f.duplicates.Load(),
		Overflow: f.overflow.Load(), Routed: f.routed.Load(), Broadcasts: f.broadcasts.Load(),
		Delivered: f.delivered.Load(),
	}
}

// Ready is closed once the fanout knows where in the log it starts.
func (f *Fanout) Ready() <-chan struct{} { return f.ready }

// Sync runs fn between the deliveries of two events, with the log id of the
// last event delivered ("" before Ready). Sockets that join rooms inside fn
// get every later event live and none of the earlier ones, which is the
// cut a recovering socket replays up to.
func (f *Fanout) Sync(fn func(offset string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.pos)
}

// receive runs on the Redis receive loop: decode, dedupe, enqueue, never wait.
func (f *Fanout) receive(id string, msg []byte) {
	if msg == nil { // the starting position
		f.queue <- job{offset: id}
		return
	}
	f.received.Add(1)
	env, p, err := event.Decode(msg)
	if err != nil {
		f.invalid.Add(1)
		f.logger.Warn("fanout: bad envelope dropped", "event_id", env.ID, "event_type", string(env.Type), "err", err)
		return
	}
	if !f.seen.add(env.ID, f.now()) {
		f.duplicates.Add(1)
		if f.logger.Enabled(context.Background(), slog.LevelDebug) {
			f.logger.Debug("fanout: duplicate dropped", "event_id", env.ID, "event_type", string(env.Type))
		}
		return
	}
	select {
	case f.queue <- job{offset: id, env: env, payload: p}:
	default:
		// Forget the id so that a republished copy can still be delivered.
		f.seen.forget(env.ID)
		n := f.overflow.Add(1)
		f.logger.Error("fanout: queue full, event dropped", "event_id", env.ID, "event_type", string(env.Type),
			"queue_size", f.cfg.QueueSize, "dropped_total", n)
	}
}

// deliver runs on the worker.
func (f *Fanout) deliver(j job) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if j.payload == nil { // the starting position, or an event the table ignores
		f.advance(j.offset)
		return
	}
	defer f.advance(j.offset)
	defer func() {
		// One faulty event must not stop delivery of every later one.
		if r := recover(); r != nil {
			f.logger.Error("fanout: delivery panicked", "event_id", j.env.ID, "event_type", string(j.env.Type), "panic", r)
		}
	}()
	f.routed.Add(1)
	debug := f.logger.Enabled(context.Background(), slog.LevelDebug)
	for _, d := range f.table.Route(j.env, j.payload) {
		n := f.out.BroadcastAt(j.offset, d.Rooms, d.Except, d.Event, d.Payload)
		f.broadcasts.Add(1)
		f.delivered.Add(uint64(max(n, 0)))
		if n > 0 && f.cfg.OnDelivered != nil {
			f.cfg.OnDelivered(d.Event, n, f.now().Sub(j.env.At))
		}
		if debug {
			f.logger.Debug("fanout: delivered", "event_id", j.env.ID, "event_type", string(j.env.Type),
				"socket_event", d.Event, "rooms", d.Rooms, "sockets", n)
		}
	}
}

// advance moves the position forward (a replay after a broken link may
// bring older ids again); with f.mu held.
func (f *Fanout) advance(offset string) {
	if !logid.After(offset, f.pos) {
		return
	}
	first := f.pos == ""
	f.pos = offset
	if first {
		close(f.ready)
	}
}
