package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.mongodb.org/mongo-driver/bson"
	mevent "go.mongodb.org/mongo-driver/event"

	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/promtext"
)

func TestHTTPByRoutePattern(t *testing.T) {
	t.Parallel()
	m := New(Config{})
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			m.ObserveRequest(r, ww.Status(), time.Millisecond)
		})
	})
	r.Get("/api/v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	r.Post(LoginRoute, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	do := func(method, path string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	do("GET", "/api/v1/orders/64b7f0c2a1b2c3d4e5f60718")
	do("GET", "/api/v1/orders/another-id")
	do("GET", "/api/v1/no/such/route/with-an-id-42")
	do("BREW", "/api/v1/orders/1")
	do("POST", LoginRoute)
	do("POST", LoginRoute)

	s := promtext.ScrapeHandler(t, m.Handler())
	for _, tc := range []struct {
		name   string
		labels promtext.Labels
		want   float64
	}{
		{"fph_http_requests_total", promtext.Labels{"route": "/api/v1/orders/{id}", "method": "GET", "status": "204"}, 2},
		{"fph_http_requests_total", promtext.Labels{"route": "unmatched", "method": "GET", "status": "404"}, 1},
		{"fph_http_requests_total", promtext.Labels{"method": "other"}, 1},
		{"fph_http_request_duration_seconds", promtext.Labels{"route": "/api/v1/orders/{id}", "method": "GET"}, 2},
		{"fph_login_failures_total", nil, 2},
	} {
		if got := s.Value(t, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	for _, route := range s.LabelValues("fph_http_requests_total", "route") {
		if strings.Contains(route, "64b7") || strings.Contains(route, "another") || strings.Contains(route, "42") {
			t.Errorf("route label %q carries a path value", route)
		}
	}
	if !s.Has("go_goroutines") || !s.Has("process_cpu_seconds_total") {
		t.Error("want the Go runtime and process collectors")
	}
}

type failingPublisher struct{ fail bool }

func (p failingPublisher) Publish(context.Context, event.Envelope) error {
	if p.fail {
		return errors.New("redis down")
	}
	return nil
}

func TestRelayLimitsAndStore(t *testing.T) {
	t.Parallel()
	m := New(Config{Collections: []string{"orders"}})
	ctx := context.Background()
	_ = m.Publisher(failingPublisher{}).Publish(ctx, event.Envelope{})
	_ = m.Publisher(failingPublisher{fail: true}).Publish(ctx, event.Envelope{})
	m.RateLimited(LimiterPayments)
	m.RateLimited("invented")

	mon := m.MongoMonitor()
	cmd := func(doc bson.D) bson.Raw {
		b, err := bson.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	start := func(id int64, name string, doc bson.D) {
		mon.Started(ctx, &mevent.CommandStartedEvent{CommandName: name, RequestID: id, Command: cmd(doc)})
	}
	done := func(id int64, name string) {
		mon.Succeeded(ctx, &mevent.CommandSucceededEvent{CommandFinishedEvent: mevent.CommandFinishedEvent{
			CommandName: name, RequestID: id, Duration: 3 * time.Millisecond}})
	}
	start(1, "find", bson.D{{Key: "find", Value: "orders"}})
	done(1, "find")
	start(2, "getMore", bson.D{{Key: "getMore", Value: int64(7)}, {Key: "collection", Value: "orders"}})
	done(2, "getMore")
	start(3, "update", bson.D{{Key: "update", Value: "secret_stuff"}})
	mon.Failed(ctx, &mevent.CommandFailedEvent{CommandFinishedEvent: mevent.CommandFinishedEvent{CommandName: "update", RequestID: 3}})
	start(4, "ping", bson.D{{Key: "ping", Value: 1}})
	done(4, "ping")

	var pendingErr error
	m.WatchOutbox(func(context.Context) (int, time.Time, error) {
		return 3, time.Unix(1000, 0), pendingErr
	}, time.Second, func() time.Time { return time.Unix(1042, 0) }, func(error) {})

	s := promtext.ScrapeHandler(t, m.Handler())
	for _, tc := range []struct {
		name   string
		labels promtext.Labels
		want   float64
	}{
		{"fph_relay_publish_duration_seconds", nil, 2},
		{"fph_relay_publish_failures_total", nil, 1},
		{"fph_rate_limited_total", promtext.Labels{"limiter": "payments"}, 1},
		{"fph_rate_limited_total", promtext.Labels{"limiter": "other"}, 1},
		{"fph_rate_limited_total", promtext.Labels{"limiter": "general"}, 0},
		{"fph_store_operation_duration_seconds", promtext.Labels{"collection": "orders", "op": "find"}, 1},
		{"fph_store_operation_duration_seconds", promtext.Labels{"collection": "orders", "op": "getMore"}, 1},
		{"fph_store_operation_duration_seconds", promtext.Labels{"collection": "other", "op": "update"}, 1},
		{"fph_outbox_pending", nil, 3},
		{"fph_outbox_oldest_pending_age_seconds", nil, 42},
	} {
		if got := s.Value(t, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if _, ok := s.Lookup("fph_store_operation_duration_seconds", promtext.Labels{"op": "ping"}); ok {
		t.Error("ping timed as a store operation")
	}

	pendingErr = errors.New("mongo down")
	if s := promtext.ScrapeHandler(t, m.Handler()); s.Has("fph_outbox_pending") || !s.Has("fph_login_failures_total") {
		t.Error("a failed outbox read must drop only the outbox series")
	}
}

func TestNilIsNoop(t *testing.T) {
	t.Parallel()
	var m *API
	m.RateLimited(LimiterGeneral)
	m.WatchOutbox(nil, 0, nil, nil)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("nil metrics /metrics: %d, want 404", rec.Code)
	}
	if m.MongoMonitor() != nil {
		t.Fatal("nil metrics has a monitor")
	}
}
