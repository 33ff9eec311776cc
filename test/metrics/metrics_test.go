// Package metrics checks /metrics end to end: the real stack of
// test/harness (orderapi and two gateway replicas as processes), real REST
// calls (test/testapi) and real socket.io-client sockets (test/jsclient),
// then each process's /metrics, scraped on its own port and read with the
// Prometheus text parser (test/promtext), must show the traffic. The front
// proxy must not forward /metrics.
package metrics

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/promtext"
	"github.com/friendspizzahut/platform/test/testapi"
)

const wait = 20 * time.Second

type L = promtext.Labels

// waitFor polls url until the series sum satisfies ok, or fails the test.
func waitFor(t *testing.T, url, name string, labels L, what string, ok func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(wait)
	var last float64
	var found bool
	for {
		last, found = promtext.Scrape(t, url).Lookup(name, labels)
		if found && ok(last) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s%v: got %v (present %v), want %s", url, name, labels, last, found, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func atLeast(n float64) func(float64) bool { return func(v float64) bool { return v >= n } }

func TestMetricsMoveWithTraffic(t *testing.T) {
	t.Parallel()
	e := testapi.StartEnv(t, harness.Options{Gateways: 2, OrderAPIEnv: map[string]string{"RATE_LIMIT_AUTH_FAILURES": "2"}})
	js := jsclient.Start(t)
	api := e.Stack.OrderAPIURL() + "/metrics"
	g1 := e.Stack.GatewayURL(0) + "/metrics"
	g2 := e.Stack.GatewayURL(1) + "/metrics"

	// Each process serves /metrics on its own port; the front proxy does not.
	resp, err := http.Get(e.Stack.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "fph_") {
		t.Fatalf("/metrics through the front proxy: %d %.200s, want 404 without metrics", resp.StatusCode, body)
	}
	before := map[string]promtext.Sample{api: promtext.Scrape(t, api), g1: promtext.Scrape(t, g1), g2: promtext.Scrape(t, g2)}
	was := func(url, name string, labels L) float64 {
		v, _ := before[url].Lookup(name, labels)
		return v
	}
	for _, url := range []string{g1, g2} {
		if got := before[url].Value(t, "fph_gateway_ready", nil); got != 1 {
			t.Errorf("%s ready = %v, want 1", url, got)
		}
	}

	// Sockets on g1: a tokenless customer over polling (a claimed
	// identity), the admin with its token over websocket (proven).
	customer := e.API.RegisterCustomer(t, "metrics-customer")
	cs := js.Connect(t, e.Stack.GatewayURL(0), jsclient.Options{Transports: jsclient.PollingOnly})
	t.Cleanup(cs.Disconnect)
	cs.WaitConnect(t)
	testapi.MustRegister(t, cs, testapi.User{ID: customer.ID, Role: customer.Role})
	as := js.Connect(t, e.Stack.GatewayURL(0), jsclient.Options{Transports: jsclient.WebSocketOnly, Auth: map[string]any{"token": e.Admin.Token}})
	t.Cleanup(as.Disconnect)
	as.WaitConnect(t)
	testapi.MustRegister(t, as, e.Admin)
	as.EmitWithAck(t, wait, "ping")
	as.Emit("no-such-event", map[string]any{"x": 1})
	as.WaitEvent(t, "error", wait, nil)

	// g2: a default client that upgrades to websocket, and a refused token.
	ds := js.Connect(t, e.Stack.GatewayURL(1), jsclient.Options{})
	t.Cleanup(ds.Disconnect)
	if c := ds.WaitConnect(t); c.Transport == "polling" {
		ds.WaitUpgrade(t)
	}
	bad := js.Connect(t, e.Stack.GatewayURL(1), jsclient.Options{Auth: map[string]any{"token": "not-a-jwt"}, NoReconnect: true})
	t.Cleanup(bad.Disconnect)
	bad.WaitConnectError(t)

	// REST traffic: an order placed and accepted; its events go through the
	// outbox and the bus to both replicas and reach the sockets on g1.
	o := e.API.PlaceOrder(t, customer)
	as.WaitEvent(t, "order:new", wait, nil)
	e.API.Accept(t, e.Admin, o.ID)
	cs.WaitEvent(t, "order:status:update", wait, nil)
	// Failed logins, then the auth-failure limiter.
	for range 3 {
		code, _ := e.API.Call(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": "nobody-metrics@example.test", "password": "wrong-password-1"})
		if code != http.StatusUnauthorized && code != http.StatusTooManyRequests {
			t.Fatalf("bad login: %d, want 401 or 429", code)
		}
	}
	if code, _ := e.API.Call(t, http.MethodGet, "/api/v1/no/such/thing/"+o.ID, "", nil); code != http.StatusNotFound {
		t.Fatalf("unknown route: %d, want 404", code)
	}

	gateway := []struct {
		url, name string
		labels    L
		delta     float64
	}{
		{g1, "fph_gateway_sockets", L{"transport": "polling"}, 1},
		{g1, "fph_gateway_sockets", L{"transport": "websocket"}, 1},
		{g2, "fph_gateway_sockets", L{"transport": "websocket"}, 1},
		{g1, "fph_gateway_registered_sockets", L{"role": "customer", "proof": "claimed"}, 1},
		{g1, "fph_gateway_registered_sockets", L{"role": "admin", "proof": "proven"}, 1},
		{g1, "fph_gateway_connects_total", nil, 2},
		{g2, "fph_gateway_connects_total", nil, 1},
		{g2, "fph_gateway_handshakes_refused_total", L{"reason": "invalid_token"}, 1},
		{g1, "fph_gateway_client_events_total", L{"event": "register", "outcome": "ok"}, 2},
		{g1, "fph_gateway_client_events_total", L{"event": "ping", "outcome": "ok"}, 1},
		{g1, "fph_gateway_client_events_total", L{"event": "other", "outcome": "invalid"}, 1},
		{g1, "fph_gateway_directory_lookups_total", L{"result": "miss"}, 1},
		{g1, "fph_gateway_bus_messages_total", L{"result": "ok"}, 2},
		{g2, "fph_gateway_bus_messages_total", L{"result": "ok"}, 2},
		{g1, "fph_gateway_deliveries_total", L{"event": "order:new"}, 1},
		{g1, "fph_gateway_deliveries_total", L{"event": "order:status:update"}, 1},
		{g1, "fph_gateway_delivery_lag_seconds", nil, 2},
	}
	for _, c := range gateway {
		want := was(c.url, c.name, c.labels) + c.delta
		waitFor(t, c.url, c.name, c.labels, fmt.Sprintf("at least %v", want), atLeast(want))
	}
	orderapi := []struct {
		name   string
		labels L
		delta  float64
	}{
		{"fph_http_requests_total", L{"route": "/api/v1/orders/{id}/accept", "method": "POST", "status": "200"}, 1},
		{"fph_http_requests_total", L{"route": "/internal/v1/users/{id}", "method": "GET", "status": "200"}, 1},
		{"fph_http_requests_total", L{"route": "unmatched", "method": "GET", "status": "404"}, 1},
		{"fph_http_request_duration_seconds", L{"route": "/api/v1/orders/from-cart", "method": "POST"}, 1},
		{"fph_login_failures_total", nil, 2},
		{"fph_rate_limited_total", L{"limiter": "auth_failures"}, 1},
		{"fph_store_operation_duration_seconds", L{"collection": "orders", "op": "insert"}, 1},
		{"fph_store_operation_duration_seconds", L{"collection": "users", "op": "find"}, 1},
		{"fph_relay_publish_duration_seconds", nil, 2},
	}
	for _, c := range orderapi {
		want := was(api, c.name, c.labels) + c.delta
		waitFor(t, api, c.name, c.labels, fmt.Sprintf("at least %v", want), atLeast(want))
	}
	s := promtext.Scrape(t, api)
	for _, name := range []string{"fph_outbox_pending", "fph_outbox_oldest_pending_age_seconds", "fph_relay_publish_failures_total", "go_goroutines", "process_resident_memory_bytes"} {
		if !s.Has(name) {
			t.Errorf("orderapi has no %s", name)
		}
	}
	// No path value (ids) ever becomes a route label.
	for _, r := range s.LabelValues("fph_http_requests_total", "route") {
		if strings.Contains(r, o.ID) || strings.Contains(r, customer.ID) {
			t.Errorf("route label %q carries an id", r)
		}
	}

	// A client disconnect is counted by reason and the gauges come down.
	cs.Disconnect()
	waitFor(t, g1, "fph_gateway_disconnects_total", L{"reason": "client namespace disconnect"},
		"a client disconnect", atLeast(was(g1, "fph_gateway_disconnects_total", L{"reason": "client namespace disconnect"})+1))
	waitFor(t, g1, "fph_gateway_registered_sockets", L{"role": "customer", "proof": "claimed"}, "0 after the disconnect",
		func(v float64) bool { return v == 0 })
	waitFor(t, g1, "fph_gateway_sockets", L{"transport": "polling"}, "0 after the disconnect",
		func(v float64) bool { return v == 0 })
}
