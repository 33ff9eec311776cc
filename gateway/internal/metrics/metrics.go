// Package metrics holds the Prometheus collectors of one gateway process,
// in a registry of its own (no global, no default registry), and serves
// them at /metrics. docs/metrics.md describes every series.
//
// The other packages do not import it: each declares the small observer it
// needs (sio.Observer, socket.Observer, fanout and directory callbacks) and
// Gateway implements them. Every label value comes from a fixed set given
// here or at New; anything else becomes "other", so no client input or id
// can grow the series.
package metrics

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/friendspizzahut/platform/gateway/internal/sio"
	"github.com/friendspizzahut/platform/gateway/internal/socket"
)

// other is the label value of anything outside a fixed set.
const other = "other"

// Fixed label sets.
var (
	transports = []string{"polling", "websocket"}
	roles      = []string{"admin", "customer", "delivery"}
	proofs     = []string{"proven", "claimed"}
	outcomes   = []string{socket.OutcomeOK, socket.OutcomeRefused, socket.OutcomeInvalid, socket.OutcomeRateLimited}
	lookups    = []string{"hit", "miss", "error"}
	// refusals are the reasons a CONNECT is refused: the socket package's
	// token checks and sio's unknown namespace.
	refusals          = []string{"no_token", "invalid_token", "token_expired", "invalid_session", "session_expired", "invalid_namespace"}
	disconnectReasons = []sio.DisconnectReason{
		sio.ReasonTransportClose, sio.ReasonTransportError, sio.ReasonPingTimeout, sio.ReasonParseError,
		sio.ReasonForcedClose, sio.ReasonServerDisconnect, sio.ReasonClientDisconnect,
		sio.ReasonServerShutdown, sio.DisconnectSlow,
	}
)

// Config names the open-ended label sets. Zero values leave them empty
// (every value then counts as "other").
type Config struct {
	ClientEvents []string // socket.ClientEvents()
	SocketEvents []string // the routing matrix's socket events
}

// BusStats are the fanout's counts of bus messages since start: all
// received, and of those the invalid and the duplicate ones.
type BusStats struct {
	Received, Invalid, Duplicate uint64
}

// Gateway is one gateway process's metrics. Its methods are safe for
// concurrent use and cheap (atomic adds on pre-resolved series).
type Gateway struct {
	reg *prometheus.Registry

	sockets      map[string]prometheus.Gauge
	registered   map[[2]string]prometheus.Gauge
	connects     prometheus.Counter
	disconnects  map[sio.DisconnectReason]prometheus.Counter
	disconnectsX prometheus.Counter // reasons outside the set
	refused      *labelled
	events       map[[2]string]prometheus.Counter
	deliveries   *labelled
	queueDrops   prometheus.Counter
	slowCuts     prometheus.Counter
	lag          prometheus.Histogram
	lookups      *labelled
	bus          *busCollector
	recoveryTry  prometheus.Counter
	recoveries   prometheus.Counter
	clientEvents map[string]bool
}

var (
	_ sio.Observer    = (*Gateway)(nil)
	_ socket.Observer = (*Gateway)(nil)
)

// New registers the gateway's collectors, with the Go runtime and process
// collectors, in a new registry.
func New(cfg Config) *Gateway {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	g := &Gateway{reg: reg, clientEvents: map[string]bool{}}

	sockets := gaugeVec(reg, "fph_gateway_sockets", "Open Engine.IO connections by current transport.", "transport")
	g.sockets = map[string]prometheus.Gauge{}
	for _, t := range transports {
		g.sockets[t] = sockets.WithLabelValues(t)
	}
	g.sockets[other] = sockets.WithLabelValues(other)

	registered := gaugeVec(reg, "fph_gateway_registered_sockets",
		"Sockets registered as a user, by role and by whether the identity is proven (token) or claimed (checked against orderapi).", "role", "proof")
	g.registered = map[[2]string]prometheus.Gauge{}
	for _, r := range withOther(roles) {
		for _, p := range proofs {
			g.registered[[2]string{r, p}] = registered.WithLabelValues(r, p)
		}
	}

	g.connects = counter(reg, "fph_gateway_connects_total", "Socket.IO CONNECTs accepted.")
	disconnects := counterVec(reg, "fph_gateway_disconnects_total", "Connected sockets gone, by Socket.IO disconnect reason.", "reason")
	g.disconnects = map[sio.DisconnectReason]prometheus.Counter{}
	for _, r := range disconnectReasons {
		g.disconnects[r] = disconnects.WithLabelValues(string(r))
	}
	g.disconnectsX = disconnects.WithLabelValues(other)
	g.refused = newLabelled(counterVec(reg, "fph_gateway_handshakes_refused_total", "Socket.IO CONNECTs refused, by reason.", "reason"), refusals)

	events := counterVec(reg, "fph_gateway_client_events_total", "Client events handled, by event and outcome.", "event", "outcome")
	g.events = map[[2]string]prometheus.Counter{}
	for _, e := range withOther(cfg.ClientEvents) {
		g.clientEvents[e] = true
		for _, o := range outcomes {
			g.events[[2]string{e, o}] = events.WithLabelValues(e, o)
		}
	}

	g.bus = &busCollector{desc: prometheus.NewDesc("fph_gateway_bus_messages_total",
		"Bus messages received, by result (ok, invalid, duplicate).", []string{"result"}, nil)}
	reg.MustRegister(g.bus)
	g.deliveries = newLabelled(counterVec(reg, "fph_gateway_deliveries_total", "Socket deliveries of domain events, by socket event.", "event"), cfg.SocketEvents)
	g.queueDrops = counter(reg, "fph_gateway_queue_drops_total", "Packets not queued because the socket's write queue was full.")
	g.slowCuts = counter(reg, "fph_gateway_slow_sockets_cut_total", "Sockets cut because their write queue overflowed.")
	g.lag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "fph_gateway_delivery_lag_seconds",
		Help:    "Time from a domain event's envelope at to its frames being queued on every recipient socket; one observation per socket event delivered.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	reg.MustRegister(g.lag)
	g.lookups = newLabelled(counterVec(reg, "fph_gateway_directory_lookups_total", "Directory lookups (users, order parties), by result.", "result"), lookups)
	g.recoveryTry = counter(reg, "fph_gateway_recovery_attempts_total", "Connection-state recoveries attempted.")
	g.recoveries = counter(reg, "fph_gateway_recoveries_total", "Connection-state recoveries that succeeded.")
	return g
}

// Handler serves the registry in the Prometheus text format.
func (g *Gateway) Handler() http.Handler {
	return promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{Registry: g.reg, ErrorHandling: promhttp.ContinueOnError})
}

// WatchBus makes fph_gateway_bus_messages_total read stats at each scrape
// (the fanout keeps the counts). Call it once, during wiring.
func (g *Gateway) WatchBus(stats func() BusStats) { g.bus.stats.Store(&stats) }

// WatchReady makes fph_gateway_ready read ready at each scrape. Call it
// once, during wiring.
func (g *Gateway) WatchReady(ready func() bool) {
	g.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "fph_gateway_ready",
		Help: "1 when the replica is ready for new sockets, 0 when draining or not ready.",
	}, func() float64 {
		if ready() {
			return 1
		}
		return 0
	}))
}

// sio.Observer

// ConnOpened counts an open connection on transport.
func (g *Gateway) ConnOpened(transport string) { g.sockets[pick(transport, transports)].Inc() }

// ConnUpgraded moves an open connection between transports.
func (g *Gateway) ConnUpgraded(from, to string) {
	g.sockets[pick(from, transports)].Dec()
	g.sockets[pick(to, transports)].Inc()
}

// ConnClosed uncounts a connection.
func (g *Gateway) ConnClosed(transport string) { g.sockets[pick(transport, transports)].Dec() }

// SocketConnected counts an accepted CONNECT.
func (g *Gateway) SocketConnected() { g.connects.Inc() }

// SocketDisconnected counts a disconnect by reason.
func (g *Gateway) SocketDisconnected(reason sio.DisconnectReason) {
	if c, ok := g.disconnects[reason]; ok {
		c.Inc()
		return
	}
	g.disconnectsX.Inc()
}

// SocketRefused counts a refused CONNECT.
func (g *Gateway) SocketRefused(reason string) { g.refused.get(reason).Inc() }

// QueueDropped counts a packet dropped on a full socket queue.
func (g *Gateway) QueueDropped() { g.queueDrops.Inc() }

// SlowSocketCut counts a socket cut as slow.
func (g *Gateway) SlowSocketCut() { g.slowCuts.Inc() }

// socket.Observer

// ClientEvent counts a handled client event.
func (g *Gateway) ClientEvent(event, outcome string) {
	if !g.clientEvents[event] {
		event = other
	}
	if c, ok := g.events[[2]string{event, outcome}]; ok {
		c.Inc()
	}
}

// SocketRegistered counts a socket registered as role.
func (g *Gateway) SocketRegistered(role string, proven bool) { g.registeredGauge(role, proven).Inc() }

// SocketUnregistered uncounts it.
func (g *Gateway) SocketUnregistered(role string, proven bool) {
	g.registeredGauge(role, proven).Dec()
}

func (g *Gateway) registeredGauge(role string, proven bool) prometheus.Gauge {
	p := "claimed"
	if proven {
		p = "proven"
	}
	return g.registered[[2]string{pick(role, roles), p}]
}

// Delivered is fanout.Config.OnDelivered: n sockets got socketEvent, lag
// after the event happened.
func (g *Gateway) Delivered(socketEvent string, n int, lag time.Duration) {
	g.deliveries.get(socketEvent).Add(float64(n))
	g.lag.Observe(max(lag.Seconds(), 0))
}

// Lookup is directory.Config.OnLookup.
func (g *Gateway) Lookup(result string) { g.lookups.get(result).Inc() }

// RecoveryAttempted counts a client asking to recover its connection state.
func (g *Gateway) RecoveryAttempted() { g.recoveryTry.Inc() }

// Recovered counts a recovery that succeeded.
func (g *Gateway) Recovered() { g.recoveries.Inc() }

// busCollector reads the fanout's counters at scrape time (zeros until
// WatchBus). The fanout's counters are not read atomically together, so
// a derived count may lag by a message; last keeps every series monotonic.
type busCollector struct {
	desc             *prometheus.Desc
	stats            atomic.Pointer[func() BusStats]
	mu               sync.Mutex
	ok, invalid, dup uint64 // last reported
}

func (c *busCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *busCollector) Collect(ch chan<- prometheus.Metric) {
	var s BusStats
	if f := c.stats.Load(); f != nil {
		s = (*f)()
	}
	ok := s.Received - min(s.Received, s.Invalid+s.Duplicate)
	c.mu.Lock()
	ok, inv, dup := max(ok, c.ok), max(s.Invalid, c.invalid), max(s.Duplicate, c.dup)
	c.ok, c.invalid, c.dup = ok, inv, dup
	c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(ok), "ok")
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(inv), "invalid")
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(dup), "duplicate")
}

// labelled is a one-label counter vector restricted to a fixed set of
// values plus "other", resolved once.
type labelled struct {
	byValue map[string]prometheus.Counter
}

func newLabelled(v *prometheus.CounterVec, values []string) *labelled {
	l := &labelled{byValue: map[string]prometheus.Counter{}}
	for _, val := range withOther(values) {
		l.byValue[val] = v.WithLabelValues(val)
	}
	return l
}

// withOther returns a copy of values with "other" appended.
func withOther(values []string) []string {
	return append(append([]string(nil), values...), other)
}

func (l *labelled) get(value string) prometheus.Counter {
	if m, ok := l.byValue[value]; ok {
		return m
	}
	return l.byValue[other]
}

// pick returns v when it is in set, else "other".
func pick(v string, set []string) string {
	for _, s := range set {
		if strings.EqualFold(v, s) {
			return s
		}
	}
	return other
}

func counter(reg *prometheus.Registry, name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	reg.MustRegister(c)
	return c
}

func counterVec(reg *prometheus.Registry, name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	reg.MustRegister(c)
	return c
}

func gaugeVec(reg *prometheus.Registry, name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	reg.MustRegister(g)
	return g
}
