package metrics

import (
	"testing"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/sio"
	"github.com/friendspizzahut/platform/test/promtext"
)

func TestSeries(t *testing.T) {
	t.Parallel()
	g := New(Config{ClientEvents: []string{"register", "ping"}, SocketEvents: []string{"order:new"}})
	bus := BusStats{Received: 10, Invalid: 2, Duplicate: 3}
	g.WatchBus(func() BusStats { return bus })
	ready := true
	g.WatchReady(func() bool { return ready })

	g.ConnOpened("polling")
	g.ConnOpened("polling")
	g.ConnUpgraded("polling", "websocket")
	g.ConnOpened("carrier-pigeon")
	g.ConnClosed("carrier-pigeon")
	g.SocketConnected()
	g.SocketDisconnected(sio.ReasonPingTimeout)
	g.SocketDisconnected("a reason nobody knows")
	g.SocketRefused("invalid_token")
	g.SocketRefused("made-up")
	g.ClientEvent("register", "ok")
	g.ClientEvent("user-typed-event-name", "invalid")
	g.SocketRegistered("delivery", true)
	g.SocketRegistered("customer", false)
	g.SocketRegistered("customer", false)
	g.SocketUnregistered("customer", false)
	g.Delivered("order:new", 3, 20*time.Millisecond)
	g.Delivered("order:evil", 1, -time.Second)
	g.QueueDropped()
	g.SlowSocketCut()
	g.Lookup("hit")
	g.Lookup("miss")
	g.Lookup("miss")
	g.RecoveryAttempted()
	g.Recovered()

	s := promtext.ScrapeHandler(t, g.Handler())
	for _, tc := range []struct {
		name   string
		labels promtext.Labels
		want   float64
	}{
		{"fph_gateway_sockets", promtext.Labels{"transport": "polling"}, 1},
		{"fph_gateway_sockets", promtext.Labels{"transport": "websocket"}, 1},
		{"fph_gateway_sockets", promtext.Labels{"transport": "other"}, 0},
		{"fph_gateway_registered_sockets", promtext.Labels{"role": "delivery", "proof": "proven"}, 1},
		{"fph_gateway_registered_sockets", promtext.Labels{"role": "customer", "proof": "claimed"}, 1},
		{"fph_gateway_registered_sockets", promtext.Labels{"role": "admin", "proof": "proven"}, 0},
		{"fph_gateway_connects_total", nil, 1},
		{"fph_gateway_disconnects_total", promtext.Labels{"reason": "ping timeout"}, 1},
		{"fph_gateway_disconnects_total", promtext.Labels{"reason": "other"}, 1},
		{"fph_gateway_handshakes_refused_total", promtext.Labels{"reason": "invalid_token"}, 1},
		{"fph_gateway_handshakes_refused_total", promtext.Labels{"reason": "other"}, 1},
		{"fph_gateway_client_events_total", promtext.Labels{"event": "register", "outcome": "ok"}, 1},
		{"fph_gateway_client_events_total", promtext.Labels{"event": "other", "outcome": "invalid"}, 1},
		{"fph_gateway_bus_messages_total", promtext.Labels{"result": "ok"}, 5},
		{"fph_gateway_bus_messages_total", promtext.Labels{"result": "invalid"}, 2},
		{"fph_gateway_bus_messages_total", promtext.Labels{"result": "duplicate"}, 3},
		{"fph_gateway_deliveries_total", promtext.Labels{"event": "order:new"}, 3},
		{"fph_gateway_deliveries_total", promtext.Labels{"event": "other"}, 1},
		{"fph_gateway_delivery_lag_seconds", nil, 2},
		{"fph_gateway_queue_drops_total", nil, 1},
		{"fph_gateway_slow_sockets_cut_total", nil, 1},
		{"fph_gateway_directory_lookups_total", promtext.Labels{"result": "miss"}, 2},
		{"fph_gateway_directory_lookups_total", promtext.Labels{"result": "error"}, 0},
		{"fph_gateway_recovery_attempts_total", nil, 1},
		{"fph_gateway_recoveries_total", nil, 1},
		{"fph_gateway_ready", nil, 1},
	} {
		if got := s.Value(t, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		if !s.Has(name) {
			t.Errorf("no %s: want the Go runtime and process collectors", name)
		}
	}
	// No label value outside the fixed sets.
	if got := s.LabelValues("fph_gateway_client_events_total", "event"); len(got) != 3 {
		t.Errorf("client event labels %v, want register, ping and other", got)
	}

	// A bus snapshot that went backwards (counters read one by one) does
	// not make a counter decrease; readiness is read at each scrape.
	bus = BusStats{Received: 9, Invalid: 2, Duplicate: 3}
	ready = false
	s = promtext.ScrapeHandler(t, g.Handler())
	if got := s.Value(t, "fph_gateway_bus_messages_total", promtext.Labels{"result": "ok"}); got != 5 {
		t.Errorf("bus ok went from 5 to %v", got)
	}
	if got := s.Value(t, "fph_gateway_ready", nil); got != 0 {
		t.Errorf("ready = %v while not ready, want 0", got)
	}
}

// TestOwnRegistry: two instances (two replicas in one test process) do
// not share or collide on series.
func TestOwnRegistry(t *testing.T) {
	t.Parallel()
	a, b := New(Config{}), New(Config{})
	a.SocketConnected()
	if got := promtext.ScrapeHandler(t, b.Handler()).Value(t, "fph_gateway_connects_total", nil); got != 0 {
		t.Fatalf("b's connects = %v after a connect on a, want 0", got)
	}
}
