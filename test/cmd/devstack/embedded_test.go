package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/event"
)

// The bus publishes with PUBLISH + XADD MAXLEN ~ in one MULTI and replays
// the stream after reconnects: miniredis must support both for the dev
// stack to deliver events.
func TestMiniredisCarriesTheBus(t *testing.T) {
	t.Parallel()
	m, _, err := startMiniredis("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	b, err := bus.New(bus.Config{URL: "redis://" + m.Addr() + "/0"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan []byte, 10)
	subCtx, stopSub := context.WithCancel(ctx)
	defer stopSub()
	subDone := make(chan error, 1)
	go func() { subDone <- b.Subscribe(subCtx, func(msg []byte) { got <- msg }) }()

	env, err := event.New(&event.BusinessStatus{IsOpen: true, BusinessName: "Test"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Subscribe has no ready signal: publish until the first message is
	// received (at-least-once makes repeats harmless here).
	var msg []byte
	for msg == nil {
		if err := b.Publish(ctx, env); err != nil {
			t.Fatalf("publish (MULTI PUBLISH + XADD) on miniredis: %v", err)
		}
		select {
		case msg = <-got:
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no message received from miniredis pub/sub")
		}
	}
	gotEnv, _, err := event.Decode(msg)
	if err != nil || gotEnv.ID != env.ID {
		t.Fatalf("received %s (%v), want envelope %s", msg, err, env.ID)
	}
	if n := m.Exists(b.Channel() + ":log"); !n {
		t.Fatalf("replay stream %s:log missing", b.Channel())
	}
	stopSub()
	select {
	case <-subDone:
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe did not return within 5s of its context ending")
	}
}

func TestTickTTLsExpiresKeys(t *testing.T) {
	t.Parallel()
	m, _, err := startMiniredis("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Set("k", "v"); err != nil {
		t.Fatal(err)
	}
	m.SetTTL("k", 200*time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tickTTLs(ctx, m, 10*time.Millisecond) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(10 * time.Second)
	for m.Exists("k") {
		if time.Now().After(deadline) {
			t.Fatal("key with a 200ms TTL still exists after 10s of ticking")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
