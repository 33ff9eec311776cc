package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/friendspizzahut/platform/orderapi/internal/outbox"
	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/infra"
)

// ferret is the FerretDB server shared by this package's tests; each test
// has its own database.
var ferret infra.SharedFerret

func TestMain(m *testing.M) { os.Exit(ferret.Run(m)) }

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fakePub records what it publishes and fails the first `fail` calls.
type fakePub struct {
	mu    sync.Mutex
	fail  int
	calls int
	got   []event.Envelope
}

func (p *fakePub) Publish(_ context.Context, env event.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.fail > 0 {
		p.fail--
		return errors.New("redis is down")
	}
	p.got = append(p.got, env)
	return nil
}

func (p *fakePub) ids() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.got))
	for _, e := range p.got {
		out = append(out, e.ID)
	}
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// status makes n distinct order.status_changed payloads for one order.
func statuses(n int) []event.Payload {
	out := make([]event.Payload, n)
	for i := range out {
		out[i] = &event.OrderStatusChangedData{OrderID: "o1", CustomerID: "c1", Status: fmt.Sprintf("s%d", i)}
	}
	return out
}

// insertWithEvents stores a document carrying the events, as a store does.
func insertWithEvents(t *testing.T, c *mongo.Collection, ps ...event.Payload) (primitive.ObjectID, []string) {
	t.Helper()
	recs, err := outbox.NewRecords(time.Now(), ps...)
	if err != nil {
		t.Fatal(err)
	}
	id := primitive.NewObjectID()
	if _, err := c.InsertOne(context.Background(), bson.M{"_id": id, "name": "x", outbox.Field: recs}); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return id, ids
}

// pushEvents appends events to a document, as store.update does.
func pushEvents(t *testing.T, c *mongo.Collection, id primitive.ObjectID, ps ...event.Payload) []string {
	t.Helper()
	recs, err := outbox.NewRecords(time.Now(), ps...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateOne(context.Background(), bson.M{"_id": id},
		bson.M{"$push": bson.M{outbox.Field: bson.M{"$each": recs}}}); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids
}

func pendingCount(t *testing.T, c *mongo.Collection, id primitive.ObjectID) int {
	t.Helper()
	var doc struct {
		Outbox []bson.Raw `bson:"outbox"`
	}
	if err := c.FindOne(context.Background(), bson.M{"_id": id}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return len(doc.Outbox)
}

// startRelay runs r until the test ends.
func startRelay(t *testing.T, r *outbox.Relay) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay: %v", err)
		}
	})
}

// inOrder reports whether want appears in got as a subsequence, in order.
func inOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestRelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fail     int           // publisher failures before it recovers
		poll     time.Duration // scan period
		notify   bool          // writers call Notify
		startLag bool          // documents written before the relay starts (a crash)
	}{
		{"notified documents go out at once", 0, time.Hour, true, false},
		{"crash between write and publish: scan at start", 0, time.Hour, false, true},
		{"periodic scan finds unnotified documents", 0, 50 * time.Millisecond, false, false},
		{"publisher down: events wait and go out in order", 4, time.Hour, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := ferret.Database(t)
			orders, users := db.Collection("orders"), db.Collection("users")
			pub := &fakePub{fail: tc.fail}
			relay := outbox.NewRelay(db, []string{"orders", "users"}, pub, testLogger(),
				outbox.Config{PollInterval: tc.poll, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
			if !tc.startLag {
				startRelay(t, relay)
			}
			o1, o1ids := insertWithEvents(t, orders, statuses(3)...)
			u1, u1ids := insertWithEvents(t, users, &event.AgentStatus{DeliveryAgentID: "a1", State: "free"})
			if tc.notify {
				relay.Notify("orders", o1)
				relay.Notify("users", u1)
			}
			more := pushEvents(t, orders, o1, statuses(2)...)
			if tc.notify {
				relay.Notify("orders", o1)
			}
			if tc.startLag {
				startRelay(t, relay)
			}
			wantOrder := append(o1ids, more...)
			eventually(t, "every event published", func() bool { return len(pub.ids()) >= len(wantOrder)+len(u1ids) })
			eventually(t, "outboxes emptied", func() bool {
				return pendingCount(t, orders, o1) == 0 && pendingCount(t, users, u1) == 0
			})
			got := pub.ids()
			if len(got) != len(wantOrder)+len(u1ids) {
				t.Fatalf("got %d publications %v, want exactly %d (no duplicates)", len(got), got, len(wantOrder)+len(u1ids))
			}
			if !inOrder(got, wantOrder) || !inOrder(got, u1ids) {
				t.Fatalf("got order %v, want per-document order %v then %v", got, wantOrder, u1ids)
			}
		})
	}
}

func TestRelayHooks(t *testing.T) {
	t.Parallel()
	db := ferret.Database(t)
	c := db.Collection("orders")
	pub := &fakePub{}
	relay := outbox.NewRelay(db, []string{"orders"}, pub, testLogger(),
		outbox.Config{PollInterval: time.Hour, MinBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond})
	var mu sync.Mutex
	seen := map[string]int{}
	failed := false
	relay.OnPublished(func(_ context.Context, env event.Envelope, p event.Payload) error {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := p.(*event.OrderStatusChangedData); !ok {
			t.Errorf("got payload %T, want *event.OrderStatusChangedData", p)
		}
		if !failed { // the first call fails: the event must stay pending and come again
			failed = true
			return errors.New("notifications store down")
		}
		seen[env.ID]++
		return nil
	})
	startRelay(t, relay)
	id, ids := insertWithEvents(t, c, statuses(2)...)
	relay.Notify("orders", id)
	eventually(t, "outbox emptied", func() bool { return pendingCount(t, c, id) == 0 })
	mu.Lock()
	defer mu.Unlock()
	for _, eid := range ids {
		if seen[eid] != 1 {
			t.Fatalf("hook succeeded %d times for %s, want once (seen %v)", seen[eid], eid, seen)
		}
	}
	if got := pub.ids(); len(got) != 3 || got[0] != ids[0] || got[1] != ids[0] || got[2] != ids[1] {
		t.Fatalf("got publications %v, want the first event twice (hook retry) then the second", got)
	}
}

func TestRelayDropsUndecodableRecords(t *testing.T) {
	t.Parallel()
	db := ferret.Database(t)
	c := db.Collection("orders")
	pub := &fakePub{}
	relay := outbox.NewRelay(db, []string{"orders"}, pub, testLogger(), outbox.Config{PollInterval: time.Hour})
	good, _ := outbox.NewRecords(time.Now(), statuses(1)...)
	id := primitive.NewObjectID()
	_, err := c.InsertOne(context.Background(), bson.M{"_id": id, outbox.Field: bson.A{
		bson.M{"id": "bad1", "type": "no.such_type", "at": time.Now(), "data": "{}"},
		"not even a document",
		good[0],
	}})
	if err != nil {
		t.Fatal(err)
	}
	startRelay(t, relay)
	eventually(t, "outbox emptied", func() bool { return pendingCount(t, c, id) == 0 })
	if got := pub.ids(); len(got) != 1 || got[0] != good[0].ID {
		t.Fatalf("got %v, want only the valid event %s", got, good[0].ID)
	}
}

// TestRelayRedisRestart runs the real bus: Redis goes away with events
// pending, the relay keeps them, and they arrive in order once it is back.
func TestRelayRedisRestart(t *testing.T) {
	t.Parallel()
	db := ferret.Database(t)
	c := db.Collection("orders")
	rds := infra.StartRedis(t)
	logger := testLogger()
	pubBus, err := bus.New(bus.Config{URL: rds.URL(), Channel: "test:events"}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pubBus.Close() })
	subBus, err := bus.New(bus.Config{URL: rds.URL(), Channel: "test:events", MaxBackoff: 100 * time.Millisecond}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { subBus.Close() })

	var mu sync.Mutex
	var got []string
	seen := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	subDone := make(chan struct{})
	go func() {
		defer close(subDone)
		_ = subBus.Subscribe(ctx, func(msg []byte) {
			env, _, err := event.Decode(msg)
			if err != nil {
				t.Errorf("decode: %v", err)
				return
			}
			mu.Lock()
			if !seen[env.ID] { // the bus is at-least-once; consumers dedupe
				seen[env.ID] = true
				got = append(got, env.ID)
			}
			mu.Unlock()
		})
	}()
	t.Cleanup(func() { cancel(); <-subDone })
	received := func(n int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= n }
	}

	pub := &countingPub{next: pubBus}
	relay := outbox.NewRelay(db, []string{"orders"}, pub, logger,
		outbox.Config{PollInterval: time.Hour, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	startRelay(t, relay)

	// The subscriber is up once a first event gets through.
	id, first := insertWithEvents(t, c, statuses(1)...)
	eventually(t, "first event", func() bool {
		relay.Notify("orders", id)
		return received(1)()
	})

	rds.Stop()
	failuresBefore := pub.failures()
	ids := pushEvents(t, c, id, statuses(3)...)
	relay.Notify("orders", id)
	eventually(t, "a failed publish", func() bool { return pub.failures() > failuresBefore })
	if n := pendingCount(t, c, id); n != 3 {
		t.Fatalf("got %d pending events while Redis is down, want 3", n)
	}
	rds.Restart(t)
	eventually(t, "events after restart", received(4))
	eventually(t, "outbox emptied", func() bool { return pendingCount(t, c, id) == 0 })
	mu.Lock()
	defer mu.Unlock()
	want := append(first, ids...)
	if len(got) != 4 || !inOrder(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

type countingPub struct {
	next outbox.Publisher
	mu   sync.Mutex
	fail int
}

func (p *countingPub) Publish(ctx context.Context, env event.Envelope) error {
	err := p.next.Publish(ctx, env)
	if err != nil {
		p.mu.Lock()
		p.fail++
		p.mu.Unlock()
	}
	return err
}

func (p *countingPub) failures() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fail
}

func TestPending(t *testing.T) {
	t.Parallel()
	db := ferret.Database(t)
	relay := outbox.NewRelay(db, []string{"orders", "users"}, &fakePub{}, testLogger(), outbox.Config{PollInterval: time.Hour})
	ctx := context.Background()
	if n, oldest, err := relay.Pending(ctx); err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("empty: got %d, %v, %v; want 0, zero time, nil", n, oldest, err)
	}
	before := time.Now().Add(-time.Second)
	insertWithEvents(t, db.Collection("orders"), statuses(2)...)
	id, _ := insertWithEvents(t, db.Collection("users"), statuses(1)...)
	pushEvents(t, db.Collection("users"), id, statuses(2)...)
	n, oldest, err := relay.Pending(ctx)
	if err != nil || n != 5 {
		t.Fatalf("got %d, %v; want 5 pending", n, err)
	}
	if oldest.Before(before) || oldest.After(time.Now()) {
		t.Fatalf("oldest %v, want within the last second", oldest)
	}
	startRelay(t, relay)
	eventually(t, "outbox drained", func() bool {
		n, _, err := relay.Pending(ctx)
		return err == nil && n == 0
	})
}
