// Package metrics holds orderapi's Prometheus collectors, in a registry of
// its own (no global, no default registry), and serves them at /metrics.
// docs/metrics.md describes every series.
//
// It measures from the outside where it can: an HTTP middleware, a MongoDB
// command monitor, a wrapper around the relay's publisher, and a scrape-time
// read of the outbox. Every label value comes from a fixed set (chi route
// patterns, known methods, collections and commands); anything else becomes
// "other" (or "unmatched" for a path no route matched), so no client input
// or id can grow the series.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.mongodb.org/mongo-driver/bson"
	mevent "go.mongodb.org/mongo-driver/event"

	"github.com/friendspizzahut/platform/shared/event"
)

const (
	other     = "other"
	unmatched = "unmatched"
	// LoginRoute is the route whose 401 answers are failed logins.
	LoginRoute = "/api/v1/auth/login"
)

// The rate limiters of orderapi's API, for RateLimited.
const (
	LimiterGeneral      = "general"
	LimiterPayments     = "payments"
	LimiterUploads      = "uploads"
	LimiterAuthFailures = "auth_failures"
)

// isStoreOp reports whether a MongoDB command is timed by collection (the
// others are handshakes, pings and sessions).
func isStoreOp(name string) bool {
	switch name {
	case "find", "insert", "update", "delete", "findAndModify", "aggregate", "count", "distinct",
		"getMore", "createIndexes":
		return true
	}
	return false
}

// Config names the open-ended label sets.
type Config struct {
	// Collections are the MongoDB collections timed by name; others count
	// as "other".
	Collections []string
}

// API is one orderapi process's metrics. A nil *API is valid and records
// nothing, so handlers built without metrics (tests) need no special case.
type API struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	relayDuration prometheus.Histogram
	relayFailures prometheus.Counter
	store         *prometheus.HistogramVec
	rateLimited   map[string]prometheus.Counter
	loginFailures prometheus.Counter

	collections map[string]bool
	started     sync.Map // mongo request id → collection of a command in flight
}

// New registers orderapi's collectors, with the Go runtime and process
// collectors, in a new registry.
func New(cfg Config) *API {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &API{reg: reg, collections: map[string]bool{}}
	for _, c := range cfg.Collections {
		m.collections[c] = true
	}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fph_http_requests_total",
		Help: "HTTP requests answered, by chi route pattern (\"unmatched\" when none matched), method and status.",
	}, []string{"route", "method", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fph_http_request_duration_seconds",
		Help:    "HTTP request durations, by chi route pattern and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method"})
	m.relayDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "fph_relay_publish_duration_seconds",
		Help:    "Time the outbox relay takes to publish one event on the bus.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	m.relayFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fph_relay_publish_failures_total",
		Help: "Events the outbox relay failed to publish (they stay pending and are retried).",
	})
	m.store = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fph_store_operation_duration_seconds",
		Help:    "MongoDB command durations, by collection and command.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"collection", "op"})
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fph_rate_limited_total",
		Help: "Requests refused with 429, by limiter.",
	}, []string{"limiter"})
	m.rateLimited = map[string]prometheus.Counter{}
	for _, l := range []string{LimiterGeneral, LimiterPayments, LimiterUploads, LimiterAuthFailures, other} {
		m.rateLimited[l] = limited.WithLabelValues(l)
	}
	m.loginFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fph_login_failures_total",
		Help: "Failed logins: 401 answers of POST " + LoginRoute + ".",
	})
	reg.MustRegister(m.requests, m.duration, m.relayDuration, m.relayFailures, m.store, limited, m.loginFailures)
	return m
}

// Handler serves the registry in the Prometheus text format; nil answers 404.
func (m *API) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// ObserveRequest counts and times a served request by the chi route
// pattern that served it; call it once the final status is known (429s
// and recovered panics included). A status of 0 means nothing was written:
// net/http answers 200.
func (m *API) ObserveRequest(r *http.Request, status int, took time.Duration) {
	if m == nil {
		return
	}
	route := unmatched
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		route = rc.RoutePattern()
	}
	if status == 0 {
		status = http.StatusOK
	}
	method := methodLabel(r.Method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(took.Seconds())
	if route == LoginRoute && status == http.StatusUnauthorized {
		m.loginFailures.Inc()
	}
}

// RateLimited counts a request refused by limiter (one of the Limiter
// constants).
func (m *API) RateLimited(limiter string) {
	if m == nil {
		return
	}
	c, ok := m.rateLimited[limiter]
	if !ok {
		c = m.rateLimited[other]
	}
	c.Inc()
}

// Publisher is what the outbox relay publishes through (*bus.Bus).
type Publisher interface {
	Publish(ctx context.Context, env event.Envelope) error
}

// Publisher returns p timed and its failures counted.
func (m *API) Publisher(p Publisher) Publisher {
	if m == nil {
		return p
	}
	return timedPublisher{p, m}
}

type timedPublisher struct {
	next Publisher
	m    *API
}

func (t timedPublisher) Publish(ctx context.Context, env event.Envelope) error {
	start := time.Now()
	err := t.next.Publish(ctx, env)
	t.m.relayDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		t.m.relayFailures.Inc()
	}
	return err
}

// MongoMonitor returns the command monitor that times MongoDB commands by
// collection (options.Client().SetMonitor).
func (m *API) MongoMonitor() *mevent.CommandMonitor {
	if m == nil {
		return nil
	}
	return &mevent.CommandMonitor{
		Started: func(_ context.Context, e *mevent.CommandStartedEvent) {
			if !isStoreOp(e.CommandName) {
				return
			}
			m.started.Store(e.RequestID, m.collectionOf(e.CommandName, e.Command))
		},
		Succeeded: func(_ context.Context, e *mevent.CommandSucceededEvent) { m.finished(e.CommandFinishedEvent) },
		Failed:    func(_ context.Context, e *mevent.CommandFailedEvent) { m.finished(e.CommandFinishedEvent) },
	}
}

func (m *API) finished(e mevent.CommandFinishedEvent) {
	coll, ok := m.started.LoadAndDelete(e.RequestID)
	if !ok {
		return
	}
	m.store.WithLabelValues(coll.(string), e.CommandName).Observe(e.Duration.Seconds())
}

// collectionOf reads the collection a command addresses: the value of its
// first element ({find: "orders"}), or "collection" for getMore.
func (m *API) collectionOf(name string, cmd bson.Raw) string {
	var v bson.RawValue
	if name == "getMore" {
		v = cmd.Lookup("collection")
	} else if elems, err := cmd.Elements(); err == nil && len(elems) > 0 {
		v = elems[0].Value()
	}
	if s, ok := v.StringValueOK(); ok && m.collections[s] {
		return s
	}
	return other
}

// Outbox reports the pending outbox events: how many, and when the oldest
// was stored (zero when none). *outbox.Relay's Pending.
type Outbox func(ctx context.Context) (count int, oldest time.Time, err error)

// WatchOutbox makes fph_outbox_pending and fph_outbox_oldest_pending_age_seconds
// read pending at each scrape, bounded by timeout. A failed read leaves both
// series out of that scrape and is passed to onError. Call it once.
func (m *API) WatchOutbox(pending Outbox, timeout time.Duration, now func() time.Time, onError func(error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&outboxCollector{
		pending: pending, timeout: timeout, now: now, onError: onError,
		count: prometheus.NewDesc("fph_outbox_pending", "Domain events stored and not yet published.", nil, nil),
		age: prometheus.NewDesc("fph_outbox_oldest_pending_age_seconds",
			"Age of the oldest pending domain event; 0 when none is pending.", nil, nil),
	})
}

type outboxCollector struct {
	pending    Outbox
	timeout    time.Duration
	now        func() time.Time
	onError    func(error)
	count, age *prometheus.Desc
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.count; ch <- c.age }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	n, oldest, err := c.pending(ctx)
	if err != nil {
		c.onError(err)
		return
	}
	age := 0.0
	if n > 0 && !oldest.IsZero() {
		age = max(c.now().Sub(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return other
}
