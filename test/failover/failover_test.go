// Package failover proves that the platform survives the loss of Redis's
// primary when REDIS_URL names a Sentinel-managed Redis: a real primary, a
// replica and three redis-sentinel processes (test/infra), orderapi and two
// gateway processes (test/harness), and the real JS socket.io-client.
package failover

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/infra"
	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/testapi"
)

// TestSentinelFailoverMidStream places orders through the REST API while
// the Redis primary is SIGKILLed and Sentinel promotes the replica. Orders
// placed while there is no primary wait in orderapi's outbox and go out once
// the relay reaches the new primary; the gateways' subscriptions break,
// resubscribe on the new primary and replay its log. Every admin and agent
// socket, on both replicas and three transports, gets every order:new
// exactly once.
func TestSentinelFailoverMidStream(t *testing.T) {
	sen := infra.StartSentinel(t, infra.SentinelOptions{DownAfter: time.Second, FailoverTimeout: 3 * time.Second})
	e := testapi.StartEnv(t, harness.Options{Gateways: 2, RedisURL: sen.URL()})
	js := jsclient.Start(t)
	// Admin sockets must prove who they are (the dashboard sends its token);
	// the agent claims its role, as the unchanged app does.
	connect := func(gw int, tr jsclient.Transport, token string) *jsclient.Socket {
		opts := jsclient.Options{Transports: tr}
		if token != "" {
			opts.Auth = map[string]any{"token": token}
		}
		s := js.Connect(t, e.Stack.GatewayURL(gw), opts)
		t.Cleanup(s.Disconnect)
		s.WaitConnect(t)
		return s
	}
	agent := e.API.OnlineAgent(t, e.Admin, "Fay Agent")
	customer := e.API.RegisterCustomer(t, "Cora Customer")
	socks := map[string]*jsclient.Socket{
		"admin on g1 (websocket)": connect(0, jsclient.WebSocketOnly, e.Admin.Token),
		"admin on g2 (polling)":   connect(1, jsclient.PollingOnly, e.Admin.Token),
		"agent on g2 (default)":   connect(1, jsclient.Default, ""),
	}
	testapi.MustRegister(t, socks["admin on g1 (websocket)"], e.Admin)
	testapi.MustRegister(t, socks["admin on g2 (polling)"], e.Admin)
	testapi.MustRegister(t, socks["agent on g2 (default)"], agent)
	all := make([]*jsclient.Socket, 0, len(socks))
	for _, s := range socks {
		all = append(all, s)
	}
	e.Bus.Barrier(t, all...)

	// The stream: an order every 150 ms from another goroutine (POST
	// /orders, so it never touches the test's *testing.T), before, during
	// and after the failover.
	product := e.API.Product(t)
	const total, killAfter = 24, 4
	type placed struct{ id, number string }
	results := make(chan placed, total)
	failures := make(chan error, total)
	go func() {
		defer close(results)
		tick := time.NewTicker(150 * time.Millisecond)
		defer tick.Stop()
		for range total {
			o, err := placeOrder(e.API.URL, customer.Token, product)
			if err != nil {
				failures <- err
				return
			}
			results <- o
			<-tick.C
		}
	}()
	var orders []placed
	var killed time.Time
	var old string
	for o := range results {
		orders = append(orders, o)
		if len(orders) == killAfter {
			old = sen.Primary.Addr()
			sen.Primary.Kill()
			killed = time.Now()
		}
	}
	select {
	case err := <-failures:
		t.Fatalf("placing orders (%d placed): %v", len(orders), err)
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	primary, err := sen.WaitPromoted(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("primary %s SIGKILLed after %d orders; Sentinel promoted %s; %d orders placed in %v after the kill",
		old, killAfter, primary, total-killAfter, time.Since(killed).Round(time.Millisecond))

	for _, o := range orders {
		for name, s := range socks {
			if s.WaitEvent(t, "order:new", 30*time.Second, testapi.FieldIs("orderId", o.id)) == nil {
				t.Fatalf("%s: no order:new for %s", name, o.id)
			}
		}
	}
	e.Bus.Barrier(t, all...) // through the new primary: duplicates would have arrived by now
	for _, o := range orders {
		for name, s := range socks {
			if got := testapi.CountWith(s, "order:new", "orderId", o.id); got != 1 {
				t.Errorf("%s: order %s arrived %d times, want exactly once", name, o.number, got)
			}
		}
	}
	if log := e.Stack.Log("orderapi"); !strings.Contains(log, "outbox relay: publishing failed") {
		t.Error("orderapi's relay never failed to publish: the orders were not held back by the outbox during the failover")
	}
	for _, g := range []string{"g1", "g2"} {
		if log := e.Stack.Log(g); !strings.Contains(log, "event bus: resubscribed") {
			t.Errorf("%s never resubscribed after the primary died", g)
		}
	}
}

// placeOrder places one cash order of product for the customer (POST
// /api/v1/orders, priced on the server) and returns its id and number.
func placeOrder(origin, token, product string) (struct{ id, number string }, error) {
	var out struct{ id, number string }
	body, _ := json.Marshal(map[string]any{
		"items":           []any{map[string]any{"productId": product, "quantity": 1}},
		"deliveryAddress": testapi.Address, "contactPhone": "8000000001", "paymentMethod": "cash",
	})
	req, err := http.NewRequest(http.MethodPost, origin+"/api/v1/orders", bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		Data struct {
			ID          string `json:"_id"`
			OrderNumber string `json:"orderNumber"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &r) != nil || r.Data.ID == "" {
		return out, fmt.Errorf("POST /api/v1/orders: %d %s", resp.StatusCode, raw)
	}
	out.id, out.number = r.Data.ID, r.Data.OrderNumber
	return out, nil
}
